// Keras 2 HDF5 files, as tf.keras 2 writes them (`model.save("model.h5")`,
// `model.save_weights("weights.h5")`) and Keras 3 still reads them
// (keras.src.legacy.saving.legacy_h5_format):
//
//   /                      attributes keras_version ("2.21.0"), backend ("tensorflow"),
//                          model_config (the Keras 2 config, JSON), training_config (JSON)
//   /model_weights         attributes layer_names, keras_version, backend: every layer's name
//     /<layer>             attribute weight_names: "dense/kernel:0", "dense/bias:0", ...
//       /dense/kernel:0    a weight (the weight names are paths below the layer's group)
//   /optimizer_weights     the optimizer's state
//
// A weights file is the `model_weights` group at the root. String attributes may be
// variable- or fixed-length; `layer_names` and `weight_names` longer than 64 KiB are split into
// `layer_names0`, `layer_names1`, ... as Keras splits them.
//
// A model is read as Keras 3 reads it: its config upgraded to Keras 3's (legacy_config.hpp:
// renamed arguments, TFOpLambda nodes as keras.ops), then each layer's weights set in the order
// of weight_names, trainable weights first as Keras 2 lists them. It follows the behaviour of
// the Keras release in keras_version (tf.keras 2: recurrent layers pass their masks on). The
// training configuration and the optimizer's state are not read: the model is not compiled.
// Errors are FileErrors that start with "HDF5 file '<path>'" and name the attribute, layer or
// weight; NotSupportedError for a layer, argument or TensorFlow function kattn does not compute.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/io/hdf5_file.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

// True when the file at `path` starts with the HDF5 signature (a `.h5` file, not a `.keras`
// zip archive). False for a missing or unreadable file, or one that is not a regular file:
// opening it reports why.
bool is_hdf5_file(const std::filesystem::path& path);

// What a Keras 2 model file holds besides its weights.
struct LegacyH5Model {
  Config model_config;                    // the Keras 2 config, as written
  std::optional<Config> training_config;  // the compile arguments, when saved compiled
  KerasVersion keras_version;             // of the root's keras_version attribute
  std::string backend;                    // "tensorflow" ("" when the file names none)
};

// The root attributes of a Keras 2 model file: FileError when model_config is missing or not a
// JSON object, or keras_version names Keras 1; NotSupportedError for a backend other than
// TensorFlow (Theano and CNTK files store convolution kernels flipped).
LegacyH5Model read_legacy_h5_model(const Hdf5File& file);

// The model a Keras 2 `.h5` model file holds, with its weights (load_model calls it for files
// with the HDF5 signature).
Model load_legacy_h5_model(const std::filesystem::path& path);
// The same from an open file of `file_bytes` bytes: the weights its config creates may take no
// more (ValueError naming the layer otherwise), as its weights must fit in it.
Model load_legacy_h5_model(const Hdf5File& file, size_t file_bytes);

// Keras 3's config.json object for a Keras 2 model_config (what Keras 3's own load_model of
// the file builds, as get_config would give it before the model is built).
Config upgrade_legacy_model_config(const Config& model_config);

// True when `file` has Keras 2's layout (a `layer_names` attribute at the root, or a
// `model_weights` group), rather than the layout of Keras 3's *.weights.h5.
bool is_legacy_h5_weights(const Hdf5File& file);

// model.load_weights("weights.h5") for a Keras 2 weights or model file (the layout above):
// topologically, the layers with weights in the file matched with the model's in order, or,
// `by_name`, each file layer with the model layer of its name (layers of the model absent
// from the file keep their weights). FileError on a layer or weight count or shape mismatch,
// naming both layers.
void load_legacy_h5_weights(Model& model, const Hdf5File& file, bool by_name = false);

}  // namespace kattn
