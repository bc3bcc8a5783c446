// One class of the registry that reads config.json (models/operation_registry.cpp): a Keras
// class name, its module, and how its operation is made from its `config`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "kattn/core/config.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

// config.json's `module` of Keras's built-in layers.
inline const std::string kLayersModule = "keras.layers";

struct OperationEntry {
  std::string class_name;  // as config.json serializes it ("GroupQueryAttention")
  std::string module;      // "keras.layers", "keras.src.ops.numpy", "keras.src.ops.core"
  // Keras's deserialization: the operation from its `config`.
  std::function<std::shared_ptr<Operation>(const Config& config)> from_config;
};

// The entry of layer class L, made by L::from_config.
template <typename L>
OperationEntry layer_entry(std::string class_name) {
  return OperationEntry{std::move(class_name), kLayersModule,
                        [](const Config& config) -> std::shared_ptr<Operation> {
                          return std::shared_ptr<L>(L::from_config(config));
                        }};
}

}  // namespace kattn::detail
