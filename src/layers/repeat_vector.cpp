// keras.layers.RepeatVector.
#include "kattn/layers/repeat_vector.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

RepeatVector::RepeatVector(Args args)
    : ReshapingLayer("RepeatVector", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      n_(args.n) {
  if (n_ <= 0) {
    throw_value_error(error_source(), "Argument `n` should be a positive integer", "n > 0",
                      "n=" + std::to_string(n_));
  }
}

std::unique_ptr<RepeatVector> RepeatVector::from_config(const Config& config) {
  ConfigReader reader(config, {"RepeatVector", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.n = detail::read_positive_int(reader, "n");
  reader.check_all_read();
  return std::make_unique<RepeatVector>(std::move(args));
}

void RepeatVector::check_rank(const Shape& input_shape) const {
  if (input_shape.size() != 2) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "inputs of rank 2 (batch, features)",
                      "shape=" + detail::keras_shape(input_shape));
  }
}

Shape RepeatVector::compute_output_shape(const Shape& input_shape) const {
  check_rank(input_shape);
  return {input_shape[0], n_, input_shape[1]};
}

Tensor RepeatVector::call(const Tensor& inputs) const {
  check_rank(inputs.shape());
  const Tensor x = inputs.contiguous();
  const int64_t batch = x.dim(0), features = x.dim(1);
  Tensor output({batch, n_, features});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t copy = 0; copy < n_; ++copy) {
      std::copy_n(x.data() + b * features, features, output.data() + (b * n_ + copy) * features);
    }
  }
  return output;
}

Tensor RepeatVector::gradient(const Tensor& d_output, const Shape& input_shape) const {
  const int64_t batch = input_shape[0], features = input_shape[1];
  Tensor d_inputs({batch, features});
  for (int64_t b = 0; b < batch; ++b) {
    float* row = d_inputs.data() + b * features;
    for (int64_t copy = 0; copy < n_; ++copy) {
      const float* from = d_output.data() + (b * n_ + copy) * features;
      for (int64_t f = 0; f < features; ++f) row[f] += from[f];
    }
  }
  return d_inputs;
}

Config RepeatVector::get_config() const {
  Config config = Layer::get_config();
  config["n"] = n_;
  return config;
}

}  // namespace kattn
