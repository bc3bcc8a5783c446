// Layer configs: the JSON objects of Keras's get_config() / from_config(), with the Keras keys.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "kattn/core/error.hpp"

namespace kattn {

using Config = nlohmann::json;

// Reads a config object key by key and refuses keys that nobody read (Keras raises on unknown
// constructor arguments). Each getter checks the JSON type and names the key in its error.
class ConfigReader {
 public:
  // `source` names the class being configured, for error messages; the reader keeps a copy, so
  // it may name temporaries ({"Dense", config_layer_name(config)}).
  ConfigReader(const Config& config, ErrorSource source);

  bool has(std::string_view key) const;

  // The value at `key` as a JSON value, or `fallback` when the key is absent. Returned by value:
  // a fallback is often a temporary (get("seed", nullptr)) that a reference would outlive.
  Config get(std::string_view key, const Config& fallback);
  bool get_bool(std::string_view key, bool fallback);
  double get_number(std::string_view key, double fallback);
  // Integers: a JSON integer, or a float with no fractional part (Python configs hold both).
  int64_t get_int(std::string_view key, int64_t fallback);
  std::string get_string(std::string_view key, std::string_view fallback);

  // Throws ValueError naming every key that was never read.
  void check_all_read() const;

  ErrorSource source() const { return {class_name_, name_}; }
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const;

 private:
  const Config& config_;
  std::string class_name_;
  std::string name_;
  std::set<std::string, std::less<>> read_;
};

// config[key] when `config` is an object holding `key`, else null: for readers that check the
// member's type next, on documents of any shape.
Config config_member(const Config& config, std::string_view key);

// config[key] when it is a string, else "": names and class names read to pick a reader or to
// word an error message.
std::string config_string(const Config& config, std::string_view key);

// The `name` entry of a layer config, or "" when it has none (for error messages raised while
// the config is read).
std::string config_layer_name(const Config& config);

// Keras's rule for layer, operation and model names: no '/' (it separates the parts of weight
// paths). ValueError naming `source` and the name otherwise.
void check_operation_name(ErrorSource source, std::string_view name);

// The base-layer arguments every Keras layer config carries.
struct LayerArgs {
  // Empty: Keras's auto name, the class's snake_case name made unique in the process as Keras's
  // auto_name makes it ("dense", then "dense_1", "dense_2", ...).
  std::string name;
  bool trainable = true;
};

// Reads `dtype` (absent, null, "float32" or a float32 DTypePolicy object): NotSupportedError
// naming any other policy.
void read_float32_dtype(ConfigReader& reader);

// Reads `name`, `trainable` and `dtype` (only the float32 policy is supported: any other dtype
// raises NotSupportedError naming it). `default_name` is used when `name` is absent.
LayerArgs read_layer_args(ConfigReader& reader, std::string_view default_name);

// The same into the `name` and `trainable` members of a layer's Args, whose `name` is the
// default.
template <typename Args>
void read_base_args(ConfigReader& reader, Args& args) {
  LayerArgs base = read_layer_args(reader, args.name);
  args.name = std::move(base.name);
  args.trainable = base.trainable;
}

// The base-layer part of get_config(): name, trainable and the float32 DTypePolicy.
Config layer_args_config(const LayerArgs& args);

// Keras's default layer name for a class: snake_case of the class name ("MultiHeadAttention"
// -> "multi_head_attention").
std::string to_snake_case(std::string_view class_name);

// The snake_case name Keras derives from a layer's Python class, for auto names and weight-file
// groups: to_snake_case of the class, whose name differs from the serialized class_name for one
// class ("GroupQueryAttention" is GroupedQueryAttention: "grouped_query_attention").
std::string layer_snake_name(std::string_view class_name);

}  // namespace kattn
