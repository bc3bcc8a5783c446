// keras.layers.AlphaDropout.
#include "kattn/layers/alpha_dropout.hpp"

#include <cmath>
#include <memory>
#include <utility>

namespace kattn {

namespace {

// selu's constants, as AlphaDropout.call spells them.
constexpr double kAlpha = 1.6732632423543772848170429916717;
constexpr double kScale = 1.0507009873554804934193349852946;
constexpr double kAlphaP = -kAlpha * kScale;

// The affine map after the mask: a and b of a * x + b.
double affine_a(double rate) { return std::pow((1 - rate) * (1 + rate * kAlphaP * kAlphaP), -0.5); }
double affine_b(double rate) { return -affine_a(rate) * kAlphaP * rate; }

}  // namespace

AlphaDropout::AlphaDropout(Args args)
    : NoiseLayer("AlphaDropout", LayerArgs{std::move(args.name), args.trainable}, args.seed),
      rate_(args.rate),
      noise_shape_(std::move(args.noise_shape)) {
  check_fraction("rate", rate_);
  check_noise_shape(noise_shape_);
}

std::unique_ptr<AlphaDropout> AlphaDropout::from_config(const Config& config) {
  ConfigReader reader(config, {"AlphaDropout", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.rate = read_required_number(reader, "rate");
  args.seed = read_seed(reader);
  args.noise_shape = read_noise_shape(reader);
  reader.check_all_read();
  return std::make_unique<AlphaDropout>(std::move(args));
}

Mask AlphaDropout::keep_mask(const Shape& shape, uint64_t key) const {
  const Shape noise = resolved_noise_shape(noise_shape_, shape);
  Mask keep(shape);
  for_each_noise_index(shape, noise, [&](int64_t i, int64_t noise_index) {
    // greater_equal(uniform, rate)
    keep.data()[i] = uniform(key, static_cast<uint64_t>(noise_index)) >= rate_;
  });
  return keep;
}

Tensor AlphaDropout::perturb(const Tensor& inputs, uint64_t key) const {
  const Mask keep = keep_mask(inputs.shape(), key);
  const auto a = static_cast<float>(affine_a(rate_));
  const auto b = static_cast<float>(affine_b(rate_));
  const auto alpha_p = static_cast<float>(kAlphaP);
  Tensor output = inputs.clone();
  for (int64_t i = 0; i < output.size(); ++i) {
    output.data()[i] = a * (keep.data()[i] ? output.data()[i] : alpha_p) + b;
  }
  return output;
}

Tensor AlphaDropout::perturb_backward(const Tensor& d_output, uint64_t key) const {
  const Mask keep = keep_mask(d_output.shape(), key);
  const auto a = static_cast<float>(affine_a(rate_));
  Tensor d_inputs = d_output.clone();
  for (int64_t i = 0; i < d_inputs.size(); ++i) {
    d_inputs.data()[i] = keep.data()[i] ? a * d_inputs.data()[i] : 0.0f;
  }
  return d_inputs;
}

Config AlphaDropout::get_config() const {
  Config config = config_with_seed();
  config["rate"] = rate_;
  config["noise_shape"] = noise_shape_config(noise_shape_);
  return config;
}

}  // namespace kattn
