// Keras 2 model configs (the `model_config` attribute of a tf.keras 2 `.h5` file) read as the
// config.json objects of Keras 3: what Keras 3's legacy loader (keras.src.legacy.saving) does
// before it deserializes a Keras 2 model, and what tf.keras 2 computed where the two differ.
#pragma once

#include <string>

#include "kattn/core/config.hpp"
#include "kattn/models/legacy_h5.hpp"

namespace kattn::detail {

// upgrade_legacy_model_config (kattn/models/legacy_h5.hpp) makes of a Keras 2 model config
// the Keras 3 config.json object of the model a Keras 2 `model_config` describes
// ({"class_name": "Functional" | "Model" | "Sequential", "config": {...}}):
//   - every node of `inbound_nodes` ([[layer, node, tensor, kwargs], ...]) as Keras 3's
//     {"args": [...], "kwargs": {...}}, tensors in kwargs included;
//   - `batch_input_shape` as an InputLayer's `batch_shape` (a Sequential whose first layer
//     carries it gets that InputLayer in front), an `axis` list of one as an int, as Keras 3 does;
//   - the Keras 2 arguments Keras 3 renamed or dropped (LeakyReLU `alpha`, the recurrent layers'
//     `time_major` and `implementation`, Embedding's `input_length`, MultiHeadAttention's
//     stored query/key/value shapes, which become its build_config);
//   - Attention / AdditiveAttention `causal` (written by TensorFlow 2.9 and before) as
//     `use_causal_mask` on each of the layer's calls;
//   - TFOpLambda and SlicingOpLambda nodes as the keras.ops operations they compute
//     (legacy_tf_ops.cpp).
// What has no Keras 3 equivalent is refused by name: ValueError for a malformed config,
// NotSupportedError for an argument value or TensorFlow function kattn does not compute.

// The Keras 3 entry of one Keras 2 layer entry of a model config (a nested model included).
Config upgrade_layer_entry(const Config& entry);

// A Keras 3 tensor reference {"class_name": "__keras_tensor__", ...} to output `tensor` of node
// `node` of `layer`.
Config legacy_keras_tensor(const std::string& layer, int64_t node, int64_t tensor);

// Keras 2's test for a serialized tensor in node data: [layer name, node index, tensor index]
// with an optional kwargs object after it.
bool is_legacy_tensor_triple(const Config& value);

// A call argument of a Keras 2 node with each tensor triple in it as a Keras 3 tensor reference.
Config upgrade_legacy_call_argument(const Config& value);

// The Keras 3 layer entry for a Keras 2 TFOpLambda or SlicingOpLambda entry: the keras.ops
// operation of its TensorFlow function, or NotSupportedError naming the class, the layer and the
// function (legacy_tf_ops.cpp).
Config upgrade_legacy_tf_op(const Config& entry);

}  // namespace kattn::detail
