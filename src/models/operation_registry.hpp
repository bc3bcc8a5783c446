// From config.json's class names to graph operations: the table of every layer class and
// keras.ops function a kattn model may contain.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

struct OperationEntry {
  std::string class_name;  // as config.json serializes it ("GroupQueryAttention")
  std::string module;      // "keras.layers", "keras.src.ops.numpy", "keras.src.ops.core"
  // Keras's deserialization: the operation from its `config`.
  std::function<std::shared_ptr<Operation>(const Config& config)> from_config;
  // The operation over a layer built in C++; nullptr when `layer` is not of this class (or
  // when the entry is a keras.ops function).
  std::function<std::shared_ptr<Operation>(const std::shared_ptr<Layer>& layer)> wrap;
};

// The entries of each family (one file each).
std::vector<OperationEntry> input_layer_operation_entries();
std::vector<OperationEntry> attention_operation_entries();
std::vector<OperationEntry> core_operation_entries();
std::vector<OperationEntry> convolution_pooling_operation_entries();
std::vector<OperationEntry> merging_operation_entries();
std::vector<OperationEntry> numpy_operation_entries();
std::vector<OperationEntry> arithmetic_operation_entries();

// config.json's `module` of Keras's built-in layers.
inline const std::string kLayersModule = "keras.layers";

// The `module` of a config.json `layers` entry ("keras.layers" when it has none).
std::string config_module(const Config& entry);
// True when kattn has the class of that module: the layer Add ("keras.layers") and the op Add
// ("keras.src.ops.numpy") are different classes.
bool is_supported(const std::string& class_name, const std::string& module);

// The operation a config.json `layers` entry describes (class_name, module, config).
// NotSupportedError naming the class and listing the supported ones for any other class.
std::shared_ptr<Operation> operation_from_config(const Config& entry);

// The operation over a layer built in C++; NotSupportedError for a class kattn cannot place
// in a model.
std::shared_ptr<Operation> operation_for_layer(const std::shared_ptr<Layer>& layer);

// Every class name operation_from_config accepts, sorted, each once; only those of `module`
// when one is given.
std::vector<std::string> supported_class_names(const std::optional<std::string>& module = {});
// "the supported classes: Activation, Add, ...; keras.ops: Absolute, Add, ...", for errors.
std::string supported_classes_text();

// An entry for layer class L whose graph operation is Op (constructed from shared_ptr<L>).
template <typename Op, typename L>
OperationEntry layer_entry(std::string class_name) {
  return OperationEntry{std::move(class_name), kLayersModule,
                        [](const Config& config) -> std::shared_ptr<Operation> {
                          return std::make_shared<Op>(std::shared_ptr<L>(L::from_config(config)));
                        },
                        [](const std::shared_ptr<Layer>& layer) -> std::shared_ptr<Operation> {
                          std::shared_ptr<L> typed = std::dynamic_pointer_cast<L>(layer);
                          if (!typed) return nullptr;
                          return std::make_shared<Op>(std::move(typed));
                        }};
}

}  // namespace kattn::detail
