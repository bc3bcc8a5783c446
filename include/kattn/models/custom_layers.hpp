// Custom layers: classes a program supplies to kattn, as Python code registers them with
// `@keras.saving.register_keras_serializable(package="zoo")`. config.json names such a class by
// its `registered_name` ("zoo>TransformerBlock"); load_model, predict, fit and save_model use
// the layer the registered factory makes from the entry's `config`:
//
//   kattn::register_custom_layer("zoo>TokenAndPositionEmbedding", [](const kattn::Config& c) {
//     return TokenAndPositionEmbedding::from_config(c);
//   });
//
// The layer is a kattn::Layer like any other: a UnaryLayer for a call on one float32 tensor, or
// a GraphLayer (kattn/models/graph_layer.hpp) for a layer made of other layers. It returns the
// registered name from registered_name() and its Python module from module(), so that the
// model saves as Keras saved it. examples/custom_layer/ implements the golden zoo's
// TokenAndPositionEmbedding and TransformerBlock this way.
//
// A shared library registers its layers when loaded: it defines
//
//   extern "C" void kattn_register_custom_layers() { kattn::register_custom_layer(...); ... }
//
// and `kattn --custom-layers LIB.so` or load_custom_layers("LIB.so") calls it.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/operation.hpp"

namespace kattn {

// Makes the layer from config.json's `config` of its entry (Keras's cls.from_config(config)).
using CustomLayerFactory = std::function<std::shared_ptr<Operation>(const Config& config)>;

// Registers (or replaces) the class `registered_name` ("package>ClassName"). ValueError for a
// name without the package's ">" or an empty factory. Safe from several threads.
void register_custom_layer(const std::string& registered_name, CustomLayerFactory factory);
// The registered names, sorted.
std::vector<std::string> registered_custom_layers();

// dlopen()s a shared library and calls its kattn_register_custom_layers(). FileError naming the
// library when it cannot be loaded or has no such function. The library stays loaded.
void load_custom_layers(const std::filesystem::path& library);

// The symbol load_custom_layers calls.
inline constexpr const char* kRegisterCustomLayersSymbol = "kattn_register_custom_layers";

namespace detail {

// The layer config.json's entry names by its registered_name, or null when that is not
// registered.
std::shared_ptr<Operation> custom_layer_from_config(const Config& entry);
// Whether the entry names a registered class.
bool is_registered_custom_layer(const Config& entry);

}  // namespace detail

}  // namespace kattn
