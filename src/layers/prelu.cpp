// keras.layers.PReLU.
#include "kattn/layers/prelu.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "core/broadcast.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

struct PReLUSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
};

std::string axes_string(const std::vector<int64_t>& axes) {
  std::string text = "[";
  for (size_t i = 0; i < axes.size(); ++i) text += (i ? ", " : "") + std::to_string(axes[i]);
  return text + "]";
}

}  // namespace

PReLU::PReLU() : PReLU(Args{}) {}

PReLU::PReLU(Args args)
    : UnaryLayer("PReLU", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kPassThrough,
                 BuildRecord::kRecorded),
      alpha_args_(detail::resolved_weight_args(std::move(args.alpha), Initializer::zeros())),
      shared_axes_(std::move(args.shared_axes)) {}

std::unique_ptr<PReLU> PReLU::from_config(const Config& config) {
  ConfigReader reader(config, {"PReLU", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.alpha = detail::read_weight_args(reader, "alpha", "zeros");
  const Config shared_axes = reader.get("shared_axes", nullptr);
  if (shared_axes.is_number_integer()) {
    args.shared_axes = std::vector<int64_t>{shared_axes.get<int64_t>()};
  } else if (shared_axes.is_array()) {
    args.shared_axes.emplace();
    for (const Config& axis : shared_axes) {
      if (!axis.is_number_integer())
        reader.fail("shared_axes", "null, an integer or a list of integers");
      args.shared_axes->push_back(axis.get<int64_t>());
    }
  } else if (!shared_axes.is_null()) {
    reader.fail("shared_axes", "null, an integer or a list of integers");
  }
  reader.check_all_read();
  return std::make_unique<PReLU>(std::move(args));
}

void PReLU::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void PReLU::build_weights(const Shape& input_shape) {
  if (input_shape.size() < 2) {
    throw_value_error(error_source(), "PReLU needs inputs with a batch axis and feature axes",
                      "inputs of rank >= 2", "input_shape=" + keras_shape(input_shape));
  }
  Shape alpha_shape(input_shape.begin() + 1, input_shape.end());
  for (const int64_t axis : shared_axes_.value_or(std::vector<int64_t>{})) {
    if (axis < 1 || axis >= static_cast<int64_t>(input_shape.size())) {
      throw_value_error(error_source(), "shared_axes are out of range for the inputs",
                        "axes in [1, " + std::to_string(input_shape.size() - 1) + "]",
                        "shared_axes=" + axes_string(*shared_axes_) +
                            ", input_shape=" + keras_shape(input_shape));
    }
    alpha_shape[static_cast<size_t>(axis - 1)] = 1;
  }
  if (std::any_of(alpha_shape.begin(), alpha_shape.end(), [](int64_t d) { return d < 0; })) {
    throw_value_error(error_source(), "the axes alpha is not shared along must have known sizes",
                      "known sizes, or those axes in shared_axes",
                      "input_shape=" + keras_shape(input_shape));
  }
  add_weight("alpha", alpha_shape, alpha_args_);
}

void PReLU::prepare(const Tensor& inputs) const {
  build_once([&] { const_cast<PReLU*>(this)->build_weights(inputs.shape()); });
  const Shape& alpha = weights()[0].value.shape();
  bool fits = inputs.rank() == static_cast<int64_t>(alpha.size()) + 1;
  for (size_t a = 0; fits && a < alpha.size(); ++a) {
    fits = alpha[a] == 1 || alpha[a] == inputs.dim(static_cast<int64_t>(a) + 1);
  }
  if (!fits) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "inputs (batch, ...) that alpha " + keras_shape(alpha) + " broadcasts to",
                      "shape=" + keras_shape(inputs.shape()));
  }
}

Tensor PReLU::broadcast_alpha(const Shape& shape) const {
  return detail::broadcast_to(weights()[0].value, shape);
}

Tensor PReLU::call(const Tensor& inputs) const {
  prepare(inputs);
  const Tensor x = inputs.contiguous();
  const Tensor alpha = broadcast_alpha(x.shape());
  Tensor output(x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    // relu(x) + (-alpha) * relu(-x), in float32 as Keras computes it
    const float v = x.data()[i];
    output.data()[i] = std::max(v, 0.0f) + -alpha.data()[i] * std::max(-v, 0.0f);
  }
  return output;
}

LayerForward PReLU::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<PReLUSaved>();
  saved->layer = this;
  saved->inputs = inputs.contiguous();
  Tensor output = call(saved->inputs);
  return {std::move(output), std::move(saved)};
}

Tensor PReLU::backward(const LayerForward& forward, const Tensor& d_output,
                       std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<PReLUSaved>(*this, forward, d_output, weight_gradients);
  const Tensor& x = saved.inputs;
  const Tensor dy = d_output.contiguous();
  const Tensor alpha = broadcast_alpha(x.shape());
  Tensor d_inputs(x.shape());
  Tensor d_alpha(x.shape());  // before the sum over the batch and the shared axes
  for (int64_t i = 0; i < x.size(); ++i) {
    const float v = x.data()[i];
    d_inputs.data()[i] = v > 0.0f ? dy.data()[i] : v < 0.0f ? alpha.data()[i] * dy.data()[i] : 0.0f;
    d_alpha.data()[i] = -dy.data()[i] * std::max(-v, 0.0f);
  }
  const Tensor summed = detail::sum_to_shape(d_alpha, weights()[0].value.shape());
  Tensor& into = weight_gradients[0];
  for (int64_t i = 0; i < into.size(); ++i) into.data()[i] += summed.data()[i];
  return d_inputs;
}

Config PReLU::get_config() const {
  Config config = Layer::get_config();
  detail::write_weight_args(config, "alpha", alpha_args_);
  Config shared = nullptr;
  if (shared_axes_) {
    shared = Config::array();
    for (const int64_t axis : *shared_axes_) shared.push_back(axis);
  }
  config["shared_axes"] = shared;
  return config;
}

}  // namespace kattn
