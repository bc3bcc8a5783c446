// Bytes -> JSON -> the layer-config reader. Parsed documents must print and parse back equal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kattn/config.hpp"
#include "kattn/error.hpp"
#include "kattn/initializers.hpp"
#include "kattn/io/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kattn::Config config;
  try {
    config = kattn::parse_json(text, "fuzz.json");
  } catch (const kattn::FileError&) {
    return 0;
  }
  if (kattn::parse_json(kattn::to_json_text(config), "printed") != config) std::abort();
  try {
    // Any document may be given where a layer config holds an initializer.
    const kattn::Initializer initializer = kattn::Initializer::from_config(config);
    (void)initializer.get_config();
  } catch (const kattn::Error&) {
  }
  if (!config.is_object()) return 0;
  try {
    kattn::ConfigReader reader(config, {"Fuzz", "fuzz"});
    kattn::read_layer_args(reader, "fuzz");
    reader.get_int("num_heads", 1);
    reader.get_number("dropout", 0.0);
    reader.get_bool("use_bias", true);
    const std::string name = reader.get_string("class_name", "Attention");
    (void)kattn::to_snake_case(name);
    reader.check_all_read();
  } catch (const kattn::Error&) {
  }
  return 0;
}
