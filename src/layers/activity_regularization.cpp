// keras.layers.ActivityRegularization.
#include "kattn/layers/activity_regularization.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "core/argument_checks.hpp"
#include "kattn/core/regularizers.hpp"

namespace kattn {

ActivityRegularization::ActivityRegularization() : ActivityRegularization(Args{}) {}

ActivityRegularization::ActivityRegularization(Args args)
    : Identity("ActivityRegularization", LayerArgs{std::move(args.name), args.trainable}),
      l1_(args.l1),
      l2_(args.l2) {
  for (const auto& [argument, value] : {std::pair{"l1", l1_}, std::pair{"l2", l2_}}) {
    if (value >= 0.0 && std::isfinite(value)) continue;
    throw_value_error(error_source(), std::string("invalid value for argument `") + argument + "`",
                      "a non-negative float",
                      std::string(argument) + "=" + detail::python_float(value));
  }
}

std::unique_ptr<ActivityRegularization> ActivityRegularization::from_config(const Config& config) {
  ConfigReader reader(config, {"ActivityRegularization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.l1 = reader.get_number("l1", args.l1);
  args.l2 = reader.get_number("l2", args.l2);
  reader.check_all_read();
  return std::make_unique<ActivityRegularization>(std::move(args));
}

Config ActivityRegularization::activity_regularizer() const {
  return Regularizer::l1_l2(l1_, l2_).get_config();
}

Config ActivityRegularization::get_config() const {
  Config config = Layer::get_config();
  config["l1"] = l1_;
  config["l2"] = l2_;
  return config;
}

}  // namespace kattn
