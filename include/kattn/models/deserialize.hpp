// keras.layers.deserialize: a layer (or keras.ops operation) from its serialized form, the object
// config.json's `layers` entries hold and Keras's keras.saving.serialize_keras_object writes:
//
//   {"class_name": "Dense", "module": "keras.layers", "config": {"units": 8, "name": "hidden"}}
//
// The config may leave out any key Keras's constructor has a default for. This is how programs
// that hold layers as configs (bindings to other languages, tools) make them; called on
// symbolic tensors with call_symbolic (kattn/core/operation.hpp), they build functional models.
#pragma once

#include <memory>

#include "kattn/core/config.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/core/operation.hpp"

namespace kattn {

// The operation the entry describes, following `keras_version`'s behaviour where Keras releases
// differ. A custom layer when its registered_name is registered (kattn/models/custom_layers.hpp).
// NotSupportedError naming the class and listing the supported ones for any other class;
// ValueError naming the layer and argument for an invalid config.
std::shared_ptr<Operation> deserialize_layer(const Config& entry,
                                             const KerasVersion& keras_version = kKerasVersion);

}  // namespace kattn
