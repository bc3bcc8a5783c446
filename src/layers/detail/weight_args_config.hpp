// A layer config's keys for one kind of weight, written once for every layer:
// <kind>_initializer, <kind>_regularizer and <kind>_constraint ("kernel", "bias", "embeddings",
// "beta", "gamma").
#pragma once

#include <string>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"

namespace kattn::detail {

// The three keys of `kind`; the initializer defaults to `default_initializer` (a Keras name).
WeightArgs read_weight_args(ConfigReader& reader, const std::string& kind,
                            const char* default_initializer);
// Writes the three keys of `kind` into a get_config (`args` as resolved_weight_args gives it).
void write_weight_args(Config& config, const std::string& kind, const WeightArgs& args);
// `args` with its initializer set: `fallback` when it has none.
WeightArgs resolved_weight_args(WeightArgs args, Initializer fallback);

}  // namespace kattn::detail
