// keras.layers.RMSNormalization.
#include "kattn/layers/rms_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "core/axis_groups.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

struct RMSNormalizationSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
  std::vector<int64_t> axes;
  std::vector<float> rrms;  // per group
};

}  // namespace

RMSNormalization::RMSNormalization() : RMSNormalization(Args{}) {}

RMSNormalization::RMSNormalization(Args args)
    : UnaryLayer("RMSNormalization", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kDrop, BuildRecord::kRecorded),
      axis_(std::move(args.axis)),
      epsilon_(args.epsilon) {}

std::unique_ptr<RMSNormalization> RMSNormalization::from_config(const Config& config) {
  ConfigReader reader(config, {"RMSNormalization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = IntOrList::read(reader, "axis", -1);
  args.epsilon = reader.get_number("epsilon", 1e-6);
  reader.check_all_read();
  return std::make_unique<RMSNormalization>(std::move(args));
}

std::vector<int64_t> RMSNormalization::resolve_axes(const Shape& shape) const {
  std::vector<int64_t> axes = axis_.resolve_axes(shape, error_source());
  std::sort(axes.begin(), axes.end());
  return axes;
}

Shape RMSNormalization::compute_output_shape(const Shape& input_shape) const {
  resolve_axes(input_shape);
  return input_shape;
}

void RMSNormalization::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void RMSNormalization::build_weights(const Shape& input_shape) {
  Shape dims;
  for (const int64_t axis : resolve_axes(input_shape)) {
    dims.push_back(input_shape[static_cast<size_t>(axis)]);
  }
  if (std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; })) {
    throw_value_error(error_source(), "the normalised axes of the inputs must be known",
                      "known sizes on axis=" + axis_.to_string(),
                      "input_shape=" + detail::keras_shape(input_shape));
  }
  add_weight("scale", dims, Initializer::ones());
  // RMSNormalization.build: self.axis = sorted(axis), or [axis].
  std::vector<int64_t> sorted = axis_.values;
  std::sort(sorted.begin(), sorted.end());
  axis_ = IntOrList(sorted);
}

LayerForward RMSNormalization::forward(const Tensor& inputs) const {
  build_once([&] { const_cast<RMSNormalization*>(this)->build_weights(inputs.shape()); });
  auto saved = std::make_shared<RMSNormalizationSaved>();
  saved->layer = this;
  saved->axes = resolve_axes(inputs.shape());
  saved->inputs = inputs.contiguous();
  const Tensor& scale = weights()[0].value;
  if (static_cast<int64_t>(saved->axes.size()) != scale.rank()) {
    throw_value_error(
        error_source(), "Input 0 is incompatible with the layer",
        "inputs with the axes scale " + detail::keras_shape(scale.shape()) + " was built for",
        "shape=" + detail::keras_shape(inputs.shape()));
  }
  for (size_t i = 0; i < saved->axes.size(); ++i) {
    if (inputs.dim(saved->axes[i]) != scale.dim(static_cast<int64_t>(i))) {
      throw_value_error(
          error_source(), "Input 0 is incompatible with the layer",
          "sizes " + detail::keras_shape(scale.shape()) + " on axis=" + axis_.to_string(),
          "shape=" + detail::keras_shape(inputs.shape()));
    }
  }
  const float* x = saved->inputs.data();
  Tensor y(inputs.shape());
  const detail::AxisGroups groups = detail::axis_groups(y.shape(), saved->axes);
  const auto n = static_cast<float>(groups.inner.size());
  for (const int64_t base : groups.outer) {
    float squares = 0.0f;
    for (const int64_t j : groups.inner) squares += x[base + j] * x[base + j];
    const float rrms = 1.0f / std::sqrt(squares / n + static_cast<float>(epsilon_));
    saved->rrms.push_back(rrms);
    for (size_t j = 0; j < groups.inner.size(); ++j) {
      const int64_t at = base + groups.inner[j];
      y.data()[at] = x[at] * rrms * scale.data()[j];
    }
  }
  return {std::move(y), std::move(saved)};
}

Tensor RMSNormalization::call(const Tensor& inputs) const { return forward(inputs).output; }

Tensor RMSNormalization::backward(const LayerForward& forward, const Tensor& d_output,
                                  std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<RMSNormalizationSaved>(*this, forward, d_output, weight_gradients);
  const float* x = saved.inputs.data();
  const Tensor dy = d_output.contiguous();
  const float* scale = weights()[0].value.data();
  float* d_scale = weight_gradients[0].data();
  Tensor d(saved.inputs.shape());
  const detail::AxisGroups groups = detail::axis_groups(d.shape(), saved.axes);
  const auto n = static_cast<double>(groups.inner.size());
  for (size_t g = 0; g < groups.outer.size(); ++g) {
    const int64_t base = groups.outer[g];
    const double r = saved.rrms[g];
    double dot = 0.0;  // sum of dy * scale * x
    for (size_t j = 0; j < groups.inner.size(); ++j) {
      const int64_t at = base + groups.inner[j];
      dot += double(dy.data()[at]) * scale[j] * x[at];
      d_scale[j] += static_cast<float>(dy.data()[at] * x[at] * r);
    }
    for (size_t j = 0; j < groups.inner.size(); ++j) {
      const int64_t at = base + groups.inner[j];
      d.data()[at] = static_cast<float>(r * scale[j] * dy.data()[at] - x[at] * r * r * r * dot / n);
    }
  }
  return d;
}

Config RMSNormalization::get_config() const {
  Config config = Layer::get_config();
  config["axis"] = axis_.to_json();
  config["epsilon"] = epsilon_;
  return config;
}

}  // namespace kattn
