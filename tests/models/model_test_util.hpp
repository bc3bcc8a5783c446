// Helpers shared by the functional-model tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/value.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/json.hpp"
#include "kattn/io/npy.hpp"

namespace kattn::testing {

inline std::filesystem::path data_dir() { return KATTN_TEST_DATA_DIR; }
inline std::filesystem::path golden_models_dir() { return data_dir() / "golden-models"; }

inline Config read_case_json(const std::filesystem::path& dir) {
  return parse_json_object(read_file_bytes(dir / "case.json"), "case.json");
}

// A golden case's inputs, in case.json's order.
inline std::vector<AnyTensor> case_inputs(const std::filesystem::path& dir,
                                          const Config& manifest) {
  std::vector<AnyTensor> inputs;
  for (const Config& input : manifest.at("inputs")) {
    const NpyArray array = read_npy(dir / input.at("file").get<std::string>());
    if (const auto* ids = std::get_if<Int32Tensor>(&array)) {
      inputs.emplace_back(*ids);
    } else {
      inputs.emplace_back(std::get<Tensor>(array));
    }
  }
  return inputs;
}

// config.json without the arbitrary `shared_object_id` Keras adds to shared objects.
inline Config without_shared_ids(Config value) {
  if (value.is_object()) {
    value.erase("shared_object_id");
    for (auto& [key, item] : value.items()) item = without_shared_ids(item);
  } else if (value.is_array()) {
    for (Config& item : value) item = without_shared_ids(item);
  }
  return value;
}

}  // namespace kattn::testing
