// keras.layers.Softmax.
#include "kattn/layers/softmax.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "core/broadcast.hpp"
#include "kattn/ops/softmax.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// keras.src.layers.activations.softmax._large_negative_number(float32)
constexpr float kLargeNegative = -1e9f;

struct SoftmaxSaved : detail::SavedForBackward {
  Tensor output;
  std::optional<Mask> mask;  // stretched to the inputs' shape
  std::vector<int64_t> axes;
};

}  // namespace

Softmax::Softmax() : Softmax(Args{}) {}

Softmax::Softmax(Args args)
    : UnaryLayer("Softmax", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kPassThrough,
                 BuildRecord::kNotRecorded),
      axis_(std::move(args.axis)) {
  build_once([] {});  // Softmax.__init__: self._build_at_init()
}

std::unique_ptr<Softmax> Softmax::from_config(const Config& config) {
  ConfigReader reader(config, {"Softmax", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = IntOrList::read(reader, "axis", -1);
  reader.check_all_read();
  return std::make_unique<Softmax>(std::move(args));
}

std::vector<int64_t> Softmax::resolve_axes(const Shape& input_shape) const {
  std::vector<int64_t> axes = axis_.resolve_axes(input_shape, error_source());
  if (axes.empty()) {
    throw_value_error(error_source(), "no axis to take the softmax over", "at least one axis",
                      "axis=()");
  }
  return axes;
}

Mask Softmax::broadcast_mask(const Mask& mask, const Shape& input_shape) const {
  bool fits = mask.rank() <= static_cast<int64_t>(input_shape.size());
  for (int64_t i = 1; fits && i <= mask.rank(); ++i) {
    const int64_t m = mask.dim(-i), d = input_shape[input_shape.size() - static_cast<size_t>(i)];
    fits = m == 1 || m == d;
  }
  if (!fits) {
    throw_value_error(error_source(),
                      "The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 "
                      "or match the corresponding input dimension, and it must not have more "
                      "dimensions",
                      "a mask that broadcasts to inputs.shape=" + keras_shape(input_shape),
                      "mask.shape=" + keras_shape(mask.shape()));
  }
  return detail::broadcast_to(mask, input_shape);
}

LayerForward Softmax::forward_masked(const Tensor& inputs, const std::optional<Mask>& mask) const {
  auto saved = std::make_shared<SoftmaxSaved>();
  saved->layer = this;
  saved->axes = resolve_axes(inputs.shape());
  if (!mask) {
    saved->output = ops::softmax(inputs, saved->axes);
    Tensor output = saved->output;
    return {std::move(output), std::move(saved)};
  }
  saved->mask = broadcast_mask(*mask, inputs.shape());
  const bool* keep = saved->mask->data();
  Tensor x = inputs.clone();
  for (int64_t i = 0; i < x.size(); ++i) {
    if (!keep[i]) x.data()[i] = kLargeNegative;
  }
  saved->output = ops::softmax(x, saved->axes);
  Tensor output = saved->output.clone();
  for (int64_t i = 0; i < output.size(); ++i) {
    if (!keep[i]) output.data()[i] = 0.0f;
  }
  return {std::move(output), std::move(saved)};
}

Tensor Softmax::call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const {
  return forward_masked(inputs, mask).output;
}

Tensor Softmax::backward(const LayerForward& forward, const Tensor& d_output,
                         std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<SoftmaxSaved>(*this, forward, d_output, weight_gradients);
  if (!saved.mask) return ops::softmax_backward(saved.output, d_output, saved.axes);
  // The final where() passes d_output where the mask holds; the first one stops the gradient of
  // the replaced elements.
  const bool* keep = saved.mask->data();
  Tensor d = d_output.clone();
  for (int64_t i = 0; i < d.size(); ++i) {
    if (!keep[i]) d.data()[i] = 0.0f;
  }
  Tensor d_inputs = ops::softmax_backward(saved.output, d, saved.axes);
  for (int64_t i = 0; i < d_inputs.size(); ++i) {
    if (!keep[i]) d_inputs.data()[i] = 0.0f;
  }
  return d_inputs;
}

Config Softmax::get_config() const {
  Config config = Layer::get_config();
  config["axis"] = axis_.to_json();
  return config;
}

}  // namespace kattn
