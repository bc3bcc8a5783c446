// keras.layers.UnitNormalization.
#include "kattn/layers/unit_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "core/axis_groups.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

// ops.normalize's epsilon^2: the squared norm is clamped to it.
constexpr float kSquaredNormFloor = 1e-24f;

struct UnitNormalizationSaved : detail::SavedForBackward {
  Tensor output;
  std::vector<int64_t> axes;
  std::vector<float> inverse_norms;  // per group
  std::vector<bool> clamped;         // per group: the floor was taken
};

}  // namespace

UnitNormalization::UnitNormalization() : UnitNormalization(Args{}) {}

UnitNormalization::UnitNormalization(Args args)
    : UnaryLayer("UnitNormalization", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kPassThrough, BuildRecord::kNotRecorded),
      axis_(std::move(args.axis)) {
  build_once([] {});  // UnitNormalization.__init__: self._build_at_init()
}

std::unique_ptr<UnitNormalization> UnitNormalization::from_config(const Config& config) {
  ConfigReader reader(config, {"UnitNormalization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = IntOrList::read(reader, "axis", -1);
  reader.check_all_read();
  return std::make_unique<UnitNormalization>(std::move(args));
}

Shape UnitNormalization::compute_output_shape(const Shape& input_shape) const {
  axis_.resolve_axes(input_shape, error_source());
  return input_shape;
}

LayerForward UnitNormalization::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<UnitNormalizationSaved>();
  saved->layer = this;
  saved->axes = axis_.resolve_axes(inputs.shape(), error_source());
  Tensor y = inputs.clone();
  const detail::AxisGroups groups = detail::axis_groups(y.shape(), saved->axes);
  for (const int64_t base : groups.outer) {
    // x * rsqrt(maximum(sum(square(x)), epsilon^2)), in float32
    float squares = 0.0f;
    for (const int64_t j : groups.inner) squares += y.data()[base + j] * y.data()[base + j];
    const float inverse = 1.0f / std::sqrt(std::max(squares, kSquaredNormFloor));
    for (const int64_t j : groups.inner) y.data()[base + j] *= inverse;
    saved->inverse_norms.push_back(inverse);
    saved->clamped.push_back(squares < kSquaredNormFloor);
  }
  saved->output = y;
  return {std::move(y), std::move(saved)};
}

Tensor UnitNormalization::call(const Tensor& inputs) const { return forward(inputs).output; }

Tensor UnitNormalization::backward(const LayerForward& forward, const Tensor& d_output,
                                   std::vector<Tensor>& weight_gradients) const {
  const auto& saved = detail::saved_for_backward<UnitNormalizationSaved>(*this, forward, d_output,
                                                                         weight_gradients);
  Tensor d = d_output.clone();
  const float* y = saved.output.data();
  const detail::AxisGroups groups = detail::axis_groups(d.shape(), saved.axes);
  for (size_t g = 0; g < groups.outer.size(); ++g) {
    const int64_t base = groups.outer[g];
    const float inverse = saved.inverse_norms[g];
    if (saved.clamped[g]) {  // a constant norm: the scale alone
      for (const int64_t j : groups.inner) d.data()[base + j] *= inverse;
      continue;
    }
    double dot = 0.0;
    for (const int64_t j : groups.inner) dot += double(d.data()[base + j]) * y[base + j];
    for (const int64_t j : groups.inner) {
      d.data()[base + j] =
          static_cast<float>((d.data()[base + j] - y[base + j] * dot) * double(inverse));
    }
  }
  return d;
}

Config UnitNormalization::get_config() const {
  Config config = Layer::get_config();
  config["axis"] = axis_.to_json();
  return config;
}

}  // namespace kattn
