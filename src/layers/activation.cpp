// keras.layers.Activation.
#include "kattn/layers/activation.hpp"

#include <utility>

namespace kattn {

Activation::Activation(Args args)
    : Layer("Activation", LayerArgs{std::move(args.name), args.trainable}),
      activation_(std::move(args.activation)) {
  build_once([] {});  // Activation.__init__: self._build_at_init()
}

std::unique_ptr<Activation> Activation::from_config(const Config& config) {
  const std::string layer_name = config_layer_name(config);  // outlives the reader
  ConfigReader reader(config, {"Activation", layer_name});
  const LayerArgs base = read_layer_args(reader, "activation");
  // A required argument: a config without it is refused rather than read as linear.
  if (!reader.has("activation")) reader.fail("activation", "an activation name or null");
  Args args;
  args.name = base.name;
  args.trainable = base.trainable;
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

Config Activation::get_config() const {
  Config config = Layer::get_config();
  config["activation"] = activation_.get_config();
  return config;
}

}  // namespace kattn
