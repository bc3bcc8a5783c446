// From config.json's class names to graph operations: the table of every layer class and
// keras.ops function a kattn model may contain.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

// keras.layers.InputLayer from its config (models/input_layer.cpp).
std::shared_ptr<Operation> input_layer_from_config(const Config& config);

// The `module` of a config.json `layers` entry ("keras.layers" when it has none).
std::string config_module(const Config& entry);
// True when kattn has the class of that module: the layer Add ("keras.layers") and the op Add
// ("keras.src.ops.numpy") are different classes.
bool is_supported(const std::string& class_name, const std::string& module);
// True for an entry of a model used as a layer: Functional (keras.src.models.functional) or
// Sequential (keras).
bool is_model_entry(const std::string& class_name, const std::string& module);

// The registered_name of an entry whose class is not Keras's own (its module is not keras.*),
// or "" for Keras's classes.
std::string unregistered_custom_layer(const Config& entry);

// The operation a config.json `layers` entry describes (class_name, module, config), a custom
// layer when its registered_name is registered (kattn/models/custom_layers.hpp).
// NotSupportedError naming the class and listing the supported ones for any other class.
// A model used as a layer (kattn/models/nested_model.hpp) is read following `keras_version`,
// the release that saved the file, as the model around it.
std::shared_ptr<Operation> operation_from_config(const Config& entry,
                                                 const KerasVersion& keras_version = kKerasVersion);

// Every class name operation_from_config accepts, sorted, each once; only those of `module`
// when one is given.
std::vector<std::string> supported_class_names(const std::optional<std::string>& module = {});
// "the supported classes: Activation, Add, ...; keras.ops: Absolute, Add, ...", for errors.
std::string supported_classes_text();

}  // namespace kattn::detail
