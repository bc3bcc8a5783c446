// keras.layers.LeakyReLU.
#include "kattn/layers/leaky_relu.hpp"

#include <memory>
#include <utility>

#include "core/argument_checks.hpp"

namespace kattn {

LeakyReLU::LeakyReLU() : LeakyReLU(Args{}) {}

LeakyReLU::LeakyReLU(Args args)
    : RectifierLayer("LeakyReLU", LayerArgs{args.name, args.trainable},
                     Rectifier::leaky_relu(args.negative_slope)),
      args_(std::move(args)) {
  if (!(args_.negative_slope >= 0.0)) {
    throw_value_error(error_source(),
                      "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                      "value",
                      "a float >= 0",
                      "negative_slope=" + detail::python_float(args_.negative_slope));
  }
}

std::unique_ptr<LeakyReLU> LeakyReLU::from_config(const Config& config) {
  ConfigReader reader(config, {"LeakyReLU", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.negative_slope = reader.get_number("negative_slope", args.negative_slope);
  reader.check_all_read();
  return std::make_unique<LeakyReLU>(std::move(args));
}

Config LeakyReLU::get_config() const {
  Config config = Layer::get_config();
  config["negative_slope"] = args_.negative_slope;
  return config;
}

}  // namespace kattn
