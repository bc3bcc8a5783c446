// Bytes -> a Keras 2 `.h5` model: the HDF5 file read, its model_config upgraded to Keras 3's
// and built, its weights set. An input that starts with '{' is taken for the model_config JSON
// alone, so that mutations reach the config upgrade without HDF5 rejecting them first.
#include <cstdint>
#include <span>
#include <string_view>

#include "core/weight_budget.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/json.hpp"
#include "kattn/models/legacy_h5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    if (!text.empty() && text.front() == '{') {
      const kattn::detail::WeightBudget budget(int64_t{1} << 16);
      kattn::Model::from_config(
          kattn::upgrade_legacy_model_config(kattn::parse_json_object(text, "fuzz.json")),
          kattn::KerasVersion{2, 21, 0});
      return 0;
    }
    kattn::Hdf5Limits limits;
    limits.max_dataset_bytes = size_t{1} << 24;
    limits.max_objects = 4096;
    const kattn::Hdf5File file =
        kattn::Hdf5File::from_image(std::as_bytes(std::span(data, size)), "fuzz.h5", limits);
    kattn::load_legacy_h5_model(file, size);
  } catch (const kattn::Error&) {
    return 0;
  }
  return 0;
}
