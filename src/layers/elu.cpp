// keras.layers.ELU.
#include "kattn/layers/elu.hpp"

#include <memory>
#include <utility>

namespace kattn {

ELU::ELU() : ELU(Args{}) {}

ELU::ELU(Args args)
    : RectifierLayer("ELU", LayerArgs{args.name, args.trainable}, Rectifier::elu(args.alpha)),
      args_(std::move(args)) {}

std::unique_ptr<ELU> ELU::from_config(const Config& config) {
  ConfigReader reader(config, {"ELU", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.alpha = reader.get_number("alpha", args.alpha);
  reader.check_all_read();
  return std::make_unique<ELU>(std::move(args));
}

Config ELU::get_config() const {
  Config config = Layer::get_config();
  config["alpha"] = args_.alpha;
  return config;
}

}  // namespace kattn
