// Argument checks and config reading shared by MultiHeadAttention and GroupedQueryAttention:
// the constructor arguments both have (dropout, initializers, regularizers, constraints,
// sliding_window, seed) and the wording of their errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/argument_checks.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn::detail {

// "Invalid value for argument `<name>`" unless value > 0.
void check_positive_argument(ErrorSource source, std::string_view name, int64_t value);
// sliding_window null or > 0.
void check_sliding_window(ErrorSource source, std::optional<int64_t> sliding_window);
// Keras refuses dropout with flash attention in the constructor.
void check_flash_attention(ErrorSource source, std::optional<bool> flash_attention, double dropout);
// Keras refuses returned scores with flash attention in the call.
void check_flash_attention_scores(ErrorSource source, bool flash_attention,
                                  bool return_attention_scores);

// A positive integer config entry; non-integers and values <= 0 get the constructor's message.
int64_t read_positive_int(ConfigReader& reader, std::string_view key);
// null or an integer.
std::optional<int64_t> read_optional_int(ConfigReader& reader, std::string_view key);
// null or a boolean.
std::optional<bool> read_optional_bool(ConfigReader& reader, std::string_view key);
// A regularizer or constraint config kept verbatim: null, a name, or a serialized object.
Config read_keras_object(ConfigReader& reader, std::string_view key);

// Reads the constructor arguments MultiHeadAttention and GroupQueryAttention share (the base
// layer's, dropout, use_bias, use_gate, sliding_window, flash_attention, initializers,
// regularizers, constraints, seed) into either layer's Args.
template <typename Args>
void read_shared_projected_args(ConfigReader& reader, Args& args) {
  read_base_args(reader, args);
  args.dropout = reader.get_number("dropout", 0.0);
  args.use_bias = reader.get_bool("use_bias", true);
  args.use_gate = reader.get_bool("use_gate", false);
  args.sliding_window = read_optional_int(reader, "sliding_window");
  args.flash_attention = read_optional_bool(reader, "flash_attention");
  args.kernel = read_weight_args(reader, "kernel", "glorot_uniform");
  args.bias = read_weight_args(reader, "bias", "zeros");
  args.activity_regularizer = read_keras_object(reader, "activity_regularizer");
  args.seed = read_optional_int(reader, "seed");
}

// A shape as Keras prints it: "(None, 5, 6)", with -1 (unknown) as None; "(3,)".
std::string keras_shape(const Shape& shape);
// Keras's check in build, compute_output_shape and call: value and key agree on every axis but
// the last (axis 0 too when `with_batch`; unknown -1 dimensions match anything).
void check_value_key(ErrorSource source, const Shape& value_shape, const Shape& key_shape,
                     bool with_batch);

Config optional_to_json(const std::optional<int64_t>& value);
Config shape_to_json(const Shape& shape);

}  // namespace kattn::detail
