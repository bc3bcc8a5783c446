// Bytes -> JSON -> the config readers: every layer class's from_config and the functional
// model's. Parsed documents must print and parse back equal; a model that loads must write a
// config that loads back to the same config.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/weight_budget.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/io/json.hpp"
#include "kattn/models/model.hpp"
#include "models/operation_registry.hpp"

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
  // Layers a config declares may not allocate more than a small budget.
  const kattn::detail::WeightBudget budget(int64_t{1} << 20);
  for (const std::string& class_name : kattn::detail::supported_class_names()) {
    try {
      const auto operation =
          kattn::detail::operation_from_config({{"class_name", class_name}, {"config", config}});
      (void)operation->get_config();
    } catch (const kattn::Error&) {
    }
  }
  try {
    const kattn::Model model = kattn::Model::from_config(config);
    const kattn::Config written = model.to_config();
    if (kattn::Model::from_config(written).to_config() != written) std::abort();
  } catch (const kattn::Error&) {
  }
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
