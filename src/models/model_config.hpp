// What reading config.json takes for both model classes, Functional (models/model_config.cpp)
// and Sequential (models/sequential.cpp).
#pragma once

#include <string>
#include <utility>

#include "kattn/core/config.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/models/model.hpp"

namespace kattn::detail {

// ValueError about a malformed config.json of model `model_name` of class `model_class`.
class ConfigError {
 public:
  ConfigError(std::string model_class, std::string model_name)
      : model_class_(std::move(model_class)), model_name_(std::move(model_name)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& expected,
                         const std::string& received) const;
  const std::string& model_class() const { return model_class_; }
  const std::string& model_name() const { return model_name_; }

 private:
  std::string model_class_;
  std::string model_name_;
};

// A JSON value shortened to fit an error message.
std::string short_dump(const Config& value);

// The name of a layer entry of config.json: its `name`, or (a Sequential's entries have none)
// its config's.
std::string entry_name(const Config& entry);

// NotSupportedError naming every class of `layers` (config.json's list) kattn cannot build, in
// file order, each once, nested ones included (Bidirectional's LSTM).
void refuse_unsupported(const Config& layers, const ConfigError& errors);

// keras.Sequential's from_config and get_config, for Model (models/sequential.cpp).
struct SequentialModel {
  static Model from_config(const Config& config, const KerasVersion& keras_version);
  static Config to_config(const Model& model);
  // Makes `model` a Sequential.
  static void mark(Model& model) { model.sequential_ = true; }
};

}  // namespace kattn::detail
