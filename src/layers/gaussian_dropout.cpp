// keras.layers.GaussianDropout.
#include "kattn/layers/gaussian_dropout.hpp"

#include <cmath>
#include <memory>
#include <utility>

namespace kattn {

namespace {

// inputs * (1 + stddev * n) element by element, n standard normal under `key`.
Tensor scaled_by_noise(const Tensor& inputs, double rate, uint64_t key) {
  const double stddev = std::sqrt(rate / (1.0 - rate));
  Tensor output = inputs.clone();
  for (int64_t i = 0; i < output.size(); ++i) {
    output.data()[i] *=
        static_cast<float>(1.0 + stddev * standard_normal(key, static_cast<uint64_t>(i)));
  }
  return output;
}

}  // namespace

GaussianDropout::GaussianDropout(Args args)
    : NoiseLayer("GaussianDropout", LayerArgs{std::move(args.name), args.trainable}, args.seed),
      rate_(args.rate) {
  check_fraction("rate", rate_);
}

std::unique_ptr<GaussianDropout> GaussianDropout::from_config(const Config& config) {
  ConfigReader reader(config, {"GaussianDropout", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.rate = read_required_number(reader, "rate");
  args.seed = read_seed(reader);
  reader.check_all_read();
  return std::make_unique<GaussianDropout>(std::move(args));
}

Tensor GaussianDropout::perturb(const Tensor& inputs, uint64_t key) const {
  return scaled_by_noise(inputs, rate_, key);
}

Tensor GaussianDropout::perturb_backward(const Tensor& d_output, uint64_t key) const {
  return scaled_by_noise(d_output, rate_, key);
}

Config GaussianDropout::get_config() const {
  Config config = config_with_seed();
  config["rate"] = rate_;
  return config;
}

}  // namespace kattn
