// keras.layers.ReLU.
#include "kattn/layers/relu.hpp"

#include <memory>
#include <utility>

#include "core/argument_checks.hpp"

namespace kattn {

ReLU::ReLU() : ReLU(Args{}) {}

ReLU::ReLU(Args args)
    : RectifierLayer("ReLU", LayerArgs{args.name, args.trainable},
                     Rectifier::relu(args.negative_slope, args.max_value, args.threshold)),
      args_(std::move(args)) {
  if (args_.max_value && *args_.max_value < 0.0) {
    throw_value_error(error_source(), "max_value of a ReLU layer cannot be a negative value",
                      "max_value >= 0 or None",
                      "max_value=" + detail::python_float(*args_.max_value));
  }
  if (!(args_.negative_slope >= 0.0)) {
    throw_value_error(
        error_source(), "negative_slope of a ReLU layer cannot be None or a negative value",
        "negative_slope >= 0", "negative_slope=" + detail::python_float(args_.negative_slope));
  }
  if (!(args_.threshold >= 0.0)) {
    throw_value_error(error_source(),
                      "threshold of a ReLU layer cannot be None or a negative value",
                      "threshold >= 0", "threshold=" + detail::python_float(args_.threshold));
  }
}

std::unique_ptr<ReLU> ReLU::from_config(const Config& config) {
  ConfigReader reader(config, {"ReLU", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  const Config max_value = reader.get("max_value", nullptr);
  if (!max_value.is_null() && !max_value.is_number()) reader.fail("max_value", "a float or null");
  if (max_value.is_number()) args.max_value = max_value.get<double>();
  args.negative_slope = reader.get_number("negative_slope", args.negative_slope);
  args.threshold = reader.get_number("threshold", args.threshold);
  reader.check_all_read();
  return std::make_unique<ReLU>(std::move(args));
}

Config ReLU::get_config() const {
  Config config = Layer::get_config();
  config["max_value"] = args_.max_value ? Config(*args_.max_value) : Config();
  config["negative_slope"] = args_.negative_slope;
  config["threshold"] = args_.threshold;
  return config;
}

}  // namespace kattn
