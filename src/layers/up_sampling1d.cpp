// keras.layers.UpSampling1D.
#include "kattn/layers/up_sampling1d.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

UpSampling1D::UpSampling1D() : UpSampling1D(Args{}) {}

UpSampling1D::UpSampling1D(Args args)
    : ReshapingLayer("UpSampling1D", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      size_(args.size) {
  if (size_ <= 0) {
    throw_value_error(error_source(), "Argument `size` should be a positive integer", "size > 0",
                      "size=" + std::to_string(size_));
  }
}

std::unique_ptr<UpSampling1D> UpSampling1D::from_config(const Config& config) {
  ConfigReader reader(config, {"UpSampling1D", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.size = reader.get_int("size", args.size);
  reader.check_all_read();
  return std::make_unique<UpSampling1D>(std::move(args));
}

Shape UpSampling1D::compute_output_shape(const Shape& input_shape) const {
  detail::check_rank_3(error_source(), input_shape);
  return {input_shape[0], input_shape[1] < 0 ? -1 : input_shape[1] * size_, input_shape[2]};
}

Tensor UpSampling1D::call(const Tensor& inputs) const {
  const Tensor x = inputs.contiguous();
  Tensor output(compute_output_shape(x.shape()));
  const int64_t rows = x.dim(0) * x.dim(1), channels = x.dim(2);
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t r = 0; r < size_; ++r) {
      std::copy_n(x.data() + row * channels, channels,
                  output.data() + (row * size_ + r) * channels);
    }
  }
  return output;
}

Tensor UpSampling1D::gradient(const Tensor& d_output, const Shape& input_shape) const {
  Tensor d_inputs(input_shape);  // zeros
  const int64_t rows = input_shape[0] * input_shape[1], channels = input_shape[2];
  for (int64_t row = 0; row < rows; ++row) {
    float* to = d_inputs.data() + row * channels;
    for (int64_t r = 0; r < size_; ++r) {
      const float* from = d_output.data() + (row * size_ + r) * channels;
      for (int64_t c = 0; c < channels; ++c) to[c] += from[c];
    }
  }
  return d_inputs;
}

Config UpSampling1D::get_config() const {
  Config config = Layer::get_config();
  config["size"] = size_;
  return config;
}

}  // namespace kattn
