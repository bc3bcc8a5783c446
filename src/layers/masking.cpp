// keras.layers.Masking: Masking.call and Masking.compute_mask.
#include "kattn/layers/masking.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "ops/numpy_operations.hpp"

namespace kattn {

Masking::Masking() : Masking(Args{}) {}

Masking::Masking(Args args)
    : UnaryLayer("Masking", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kDrop,
                 BuildRecord::kNotRecorded),
      mask_value_(args.mask_value) {}

std::unique_ptr<Masking> Masking::from_config(const Config& config) {
  ConfigReader reader(config, {"Masking", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.mask_value = reader.get_number("mask_value", 0.0);
  reader.check_all_read();
  return std::make_unique<Masking>(std::move(args));
}

void Masking::build(const Shape& /*input_shape*/) {
  build_once([] {});
}

Mask Masking::keep_mask(const Tensor& inputs) const {
  detail::check_min_rank(error_source(), inputs.shape(), 1);
  const Tensor x = inputs.contiguous();
  const Shape& shape = x.shape();
  Mask keep(Shape(shape.begin(), shape.end() - 1));
  const int64_t length = x.dim(-1);
  // ops.not_equal(inputs, mask_value) converts mask_value to a float32 tensor first.
  const auto value = static_cast<float>(mask_value_);
  for (int64_t row = 0; row < keep.size(); ++row) {
    const float* step = x.data() + row * length;
    keep.data()[row] = std::any_of(step, step + length, [&](float v) { return v != value; });
  }
  return keep;
}

Tensor Masking::apply_keep(const Tensor& inputs, const Mask& keep) {
  Tensor output = inputs.clone();
  const int64_t length = output.dim(-1);
  for (int64_t row = 0; row < keep.size(); ++row) {
    const float factor = keep.data()[row] ? 1.0f : 0.0f;
    float* step = output.data() + row * length;
    for (int64_t j = 0; j < length; ++j) step[j] *= factor;
  }
  return output;
}

Tensor Masking::call(const Tensor& inputs) const {
  build_once([] {});
  return apply_keep(inputs, keep_mask(inputs));
}

namespace {

struct MaskingSaved : detail::SavedForBackward {
  Mask keep;  // inputs.shape[:-1]
};

}  // namespace

LayerForward Masking::forward(const Tensor& inputs) const {
  build_once([] {});
  auto saved = std::make_shared<MaskingSaved>();
  saved->layer = this;
  saved->keep = keep_mask(inputs);
  return {apply_keep(inputs, saved->keep), std::move(saved)};
}

Tensor Masking::backward(const LayerForward& forward, const Tensor& d_output,
                         std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<MaskingSaved>(*this, forward, d_output, weight_gradients);
  // output = inputs * keep: the same product, of d_output.
  return apply_keep(d_output, saved.keep);
}

Config Masking::get_config() const {
  Config config = Layer::get_config();
  config["mask_value"] = mask_value_;
  return config;
}

std::optional<Mask> Masking::compute_mask(const Tensor& inputs,
                                          const std::optional<Mask>& /*mask*/) const {
  return keep_mask(inputs);
}

std::optional<KerasTensor> Masking::compute_mask(const KerasTensor& inputs,
                                                 const std::optional<KerasTensor>& /*mask*/) const {
  return detail::symbolic_any(detail::symbolic_not_equal(inputs, get_config()["mask_value"]), -1);
}

}  // namespace kattn
