// keras.layers.Dropout: Dropout.__init__'s checks and Dropout.call, with the numpy backend's
// backend.random.dropout rule (keep when uniform < 1 - rate, kept values divided by 1 - rate in
// float32).
#include "kattn/layers/dropout.hpp"

#include <memory>
#include <utility>

namespace kattn {

Dropout::Dropout(Args args) : Dropout("Dropout", std::move(args)) {}

Dropout::Dropout(std::string class_name, Args args)
    : NoiseLayer(std::move(class_name), LayerArgs{std::move(args.name), args.trainable}, args.seed),
      rate_(args.rate),
      noise_shape_(std::move(args.noise_shape)) {
  check_fraction("rate", rate_);
  check_noise_shape(noise_shape_);
}

std::unique_ptr<Dropout> Dropout::from_config(const Config& config) {
  ConfigReader reader(config, {"Dropout", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.rate = read_required_number(reader, "rate");
  args.seed = read_seed(reader);
  args.noise_shape = read_noise_shape(reader);
  reader.check_all_read();
  return std::make_unique<Dropout>(std::move(args));
}

Tensor Dropout::apply_keep_mask(const Tensor& inputs, uint64_t key) const {
  const Shape& shape = inputs.shape();
  const Shape noise = resolved_noise_shape(noise_shape_, shape);
  const float keep_prob = static_cast<float>(1.0 - rate_);
  const Tensor x = inputs.contiguous();
  Tensor output(shape);
  for_each_noise_index(shape, noise, [&](int64_t i, int64_t noise_index) {
    output.data()[i] = dropout_keeps(key, static_cast<uint64_t>(noise_index), rate_)
                           ? x.data()[i] / keep_prob
                           : 0.0f;
  });
  return output;
}

Tensor Dropout::perturb(const Tensor& inputs, uint64_t key) const {
  return apply_keep_mask(inputs, key);
}

Tensor Dropout::perturb_backward(const Tensor& d_output, uint64_t key) const {
  // output = keep ? inputs / (1 - rate) : 0 is linear in the inputs: the same mask, the same
  // scale.
  return apply_keep_mask(d_output, key);
}

Config Dropout::get_config() const {
  Config config = config_with_seed();
  config["rate"] = rate_;
  config["noise_shape"] = noise_shape_config(noise_shape_);
  return config;
}

}  // namespace kattn
