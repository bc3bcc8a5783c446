// keras.layers.Activation.
#include "kattn/layers/activation.hpp"

#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"

namespace kattn {

namespace {

struct ActivationSaved : detail::SavedForBackward {
  detail::Activated activated;
};

}  // namespace

Activation::Activation(Args args)
    : UnaryLayer("Activation", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kPassThrough, BuildRecord::kNotRecorded),
      activation_(std::move(args.activation)) {
  build_once([] {});  // Activation.__init__: self._build_at_init()
}

std::unique_ptr<Activation> Activation::from_config(const Config& config) {
  ConfigReader reader(config, {"Activation", config_layer_name(config)});
  // A required argument: a config without it is refused rather than read as linear.
  if (!reader.has("activation")) reader.fail("activation", "an activation name or null");
  Args args;
  read_base_args(reader, args);
  args.activation = ActivationFunction::from_config(reader.get("activation", nullptr));
  reader.check_all_read();
  return std::make_unique<Activation>(std::move(args));
}

Tensor Activation::call(const Tensor& inputs) const {
  // The activation works in place; the caller's tensor shares storage with `inputs`.
  Tensor output = inputs.clone();
  activation_(output);
  return output;
}

LayerForward Activation::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<ActivationSaved>();
  saved->layer = this;
  saved->activated = detail::activate(activation_, inputs.clone());
  return {saved->activated.output, std::move(saved)};
}

Tensor Activation::backward(const LayerForward& forward, const Tensor& d_output,
                            std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<ActivationSaved>(*this, forward, d_output, weight_gradients);
  // output = activation(inputs); the result is fresh even for linear.
  return activation_.backward(saved.activated.linear, saved.activated.output, d_output);
}

Config Activation::get_config() const {
  Config config = Layer::get_config();
  config["activation"] = activation_.get_config();
  return config;
}

}  // namespace kattn
