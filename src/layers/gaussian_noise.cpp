// keras.layers.GaussianNoise.
#include "kattn/layers/gaussian_noise.hpp"

#include <memory>
#include <utility>

namespace kattn {

GaussianNoise::GaussianNoise(Args args)
    : NoiseLayer("GaussianNoise", LayerArgs{std::move(args.name), args.trainable}, args.seed),
      stddev_(args.stddev) {
  check_fraction("stddev", stddev_);
}

std::unique_ptr<GaussianNoise> GaussianNoise::from_config(const Config& config) {
  ConfigReader reader(config, {"GaussianNoise", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.stddev = read_required_number(reader, "stddev");
  args.seed = read_seed(reader);
  reader.check_all_read();
  return std::make_unique<GaussianNoise>(std::move(args));
}

Tensor GaussianNoise::perturb(const Tensor& inputs, uint64_t key) const {
  Tensor output = inputs.clone();
  for (int64_t i = 0; i < output.size(); ++i) {
    output.data()[i] +=
        static_cast<float>(stddev_ * standard_normal(key, static_cast<uint64_t>(i)));
  }
  return output;
}

Tensor GaussianNoise::perturb_backward(const Tensor& d_output, uint64_t /*key*/) const {
  return d_output.clone();
}

Config GaussianNoise::get_config() const {
  Config config = config_with_seed();
  config["stddev"] = stddev_;
  return config;
}

}  // namespace kattn
