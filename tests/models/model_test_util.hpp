// Helpers shared by the functional-model tests.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
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

// `config` with the name of every op node replaced by the name of the entry at the same position
// in `keras`'s layer list (op nodes take process-wide auto-names: "matmul", "matmul_1", ...;
// layers keep theirs, so a wrong layer name still shows).
inline Config with_names_of(Config config, const Config& keras) {
  std::map<std::string, std::string> names;
  const Config& ours = config["config"]["layers"];
  const Config& theirs = keras["config"]["layers"];
  for (size_t i = 0; i < ours.size() && i < theirs.size(); ++i) {
    if (ours[i].value("module", "").rfind("keras.src.ops", 0) != 0) continue;
    names[ours[i]["name"].get<std::string>()] = theirs[i]["name"].get<std::string>();
  }
  std::function<void(Config&)> rename = [&](Config& value) {
    if (value.is_string() && names.count(value.get<std::string>())) {
      value = names[value.get<std::string>()];
    } else if (value.is_structured()) {
      for (auto& item : value) rename(item);
    }
  };
  rename(config);
  return config;
}

}  // namespace kattn::testing
