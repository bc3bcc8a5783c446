#include "layers/detail/weight_args_config.hpp"

#include <utility>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn::detail {

WeightArgs read_weight_args(ConfigReader& reader, const std::string& kind,
                            const char* default_initializer) {
  WeightArgs args;
  args.initializer =
      Initializer::from_config(reader.get(kind + "_initializer", default_initializer));
  args.regularizer = read_keras_object(reader, kind + "_regularizer");
  args.constraint = read_keras_object(reader, kind + "_constraint");
  return args;
}

void write_weight_args(Config& config, const std::string& kind, const WeightArgs& args) {
  config[kind + "_initializer"] = args.initializer->get_config();
  config[kind + "_regularizer"] = args.regularizer;
  config[kind + "_constraint"] = args.constraint;
}

WeightArgs resolved_weight_args(WeightArgs args, Initializer fallback) {
  if (!args.initializer) args.initializer = std::move(fallback);
  return args;
}

}  // namespace kattn::detail
