// Keras 2 `.h5` model and weights files (keras.src.legacy.saving.legacy_h5_format).
#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <utility>
#include <vector>

#include "core/weight_budget.hpp"
#include "kattn/io/json.hpp"
#include "kattn/models/legacy_h5.hpp"
#include "models/legacy_config.hpp"
#include "models/model_config.hpp"

namespace kattn {

namespace {

std::string join_path(const std::string& group, const std::string& name) {
  return group.empty() ? name : group + "/" + name;
}

std::string quoted_group(const std::string& group) {
  return "'" + (group.empty() ? std::string("/") : group) + "'";
}

// A string attribute Keras 2 writes as one string (model_config, keras_version, backend).
std::optional<std::string> text_attribute(const Hdf5File& file, const std::string& group,
                                          const std::string& name) {
  const std::optional<std::vector<std::string>> values =
      file.read_string_list_attribute(group, name);
  if (!values) return std::nullopt;
  if (values->size() != 1) {
    throw FileError(file.what() + ": attribute '" + name + "' of " + quoted_group(group) +
                    " holds " + std::to_string(values->size()) + " strings, expected one");
  }
  return values->front();
}

// Keras 2's load_attributes_from_hdf5_group: the list `name`, or its chunks name0, name1, ...
std::optional<std::vector<std::string>> chunked_list(const Hdf5File& file, const std::string& group,
                                                     const std::string& name) {
  if (auto values = file.read_string_list_attribute(group, name)) return values;
  std::optional<std::vector<std::string>> all;
  for (int chunk = 0;; ++chunk) {
    auto values = file.read_string_list_attribute(group, name + std::to_string(chunk));
    if (!values) return all;
    if (!all) all.emplace();
    all->insert(all->end(), values->begin(), values->end());
  }
}

std::vector<std::string> required_list(const Hdf5File& file, const std::string& group,
                                       const std::string& name, const std::string& why) {
  std::optional<std::vector<std::string>> values = chunked_list(file, group, name);
  if (!values) {
    throw FileError(file.what() + ": " + quoted_group(group) + " has no attribute '" + name +
                    "', which " + why);
  }
  return std::move(*values);
}

// The release a Keras 2 file names, refused when it is Keras 1's.
KerasVersion file_keras_version(const Hdf5File& file, const std::string& group) {
  const std::optional<std::string> text = text_attribute(file, group, "keras_version");
  if (!text) {
    throw NotSupportedError(file.what() + ": " + quoted_group(group) +
                            " has no keras_version attribute: a file of Keras 1, whose weight "
                            "layouts kattn does not read (tf.keras 2 and Keras 2 write one)");
  }
  KerasVersion version;
  try {
    version = KerasVersion::parse(*text);
  } catch (const Error& e) {
    throw FileError(file.what() + ": attribute 'keras_version' of " + quoted_group(group) + ": " +
                    e.what());
  }
  if (version.major < 2) {
    throw NotSupportedError(file.what() + ": keras_version " + *text +
                            ": a file of Keras 1, whose weight layouts kattn does not read "
                            "(expected a file of Keras 2 or tf.keras 2)");
  }
  return version;
}

void check_backend(const Hdf5File& file, const std::string& group) {
  const std::optional<std::string> backend = text_attribute(file, group, "backend");
  if (backend && *backend != "tensorflow") {
    throw NotSupportedError(file.what() + ": backend '" + *backend +
                            "': Keras 2 files of other backends than TensorFlow store "
                            "convolution kernels in another layout, which kattn does not "
                            "convert. Expected backend 'tensorflow'");
  }
}

// One layer's weights as the file lists them (trainable first).
struct SavedLayer {
  std::string name;
  std::vector<std::string> weight_names;
  std::vector<Tensor> values;
};

std::vector<SavedLayer> saved_layers(const Hdf5File& file, const std::string& group) {
  std::vector<SavedLayer> layers;
  for (const std::string& name :
       required_list(file, group, "layer_names", "a Keras 2 weights group lists its layers in")) {
    const std::string layer_group = join_path(group, name);
    if (!file.exists(layer_group)) {
      throw FileError(file.what() + ": layer '" + name + "' of layer_names has no group " +
                      quoted_group(layer_group));
    }
    SavedLayer layer{name,
                     required_list(file, layer_group, "weight_names",
                                   "a Keras 2 layer group lists its weights in"),
                     {}};
    for (const std::string& weight : layer.weight_names) {
      layer.values.push_back(file.read_float32(join_path(layer_group, weight)));
    }
    if (!layer.values.empty()) layers.push_back(std::move(layer));
  }
  return layers;
}

// Sets `layer`'s weights from the file's list: trainable weights first, as Keras 2's
// _legacy_weights orders them.
void set_layer_weights(const Hdf5File& file, Layer& layer, const SavedLayer& saved, size_t index) {
  const std::vector<Variable>& weights = layer.weights();
  if (saved.values.size() != weights.size()) {
    throw FileError(file.what() + ": weight count mismatch for layer #" + std::to_string(index) +
                    " (named " + layer.name() + " in the current model, " + saved.name +
                    " in the save file). Layer expects " + std::to_string(weights.size()) +
                    " weight(s). Received " + std::to_string(saved.values.size()) +
                    " saved weight(s)");
  }
  std::vector<size_t> order;
  for (bool trainable : {true, false}) {
    for (size_t i = 0; i < weights.size(); ++i) {
      if (weights[i].trainable == trainable) order.push_back(i);
    }
  }
  std::vector<Tensor> values(weights.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const Variable& weight = weights[order[k]];
    if (saved.values[k].shape() != weight.value.shape()) {
      throw FileError(file.what() + ": weight '" + saved.weight_names[k] + "' of layer '" +
                      saved.name + "' has shape " + shape_to_string(saved.values[k].shape()) +
                      ", but weight '" + weight.name + "' of layer '" + layer.name() +
                      "' has shape " + shape_to_string(weight.value.shape()));
    }
    values[order[k]] = saved.values[k];
  }
  layer.set_weights(values);
}

}  // namespace

Model load_legacy_h5_model(const Hdf5File& file, size_t file_bytes) {
  const LegacyH5Model saved = read_legacy_h5_model(file);
  std::optional<Model> model;
  try {
    const detail::WeightBudget budget(static_cast<int64_t>(file_bytes / sizeof(float)));
    model.emplace(
        Model::from_config(upgrade_legacy_model_config(saved.model_config), saved.keras_version));
  } catch (const NotSupportedError& e) {
    throw NotSupportedError(file.what() + ": attribute 'model_config': " + e.what());
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(file.what() + ": attribute 'model_config': " + e.what());
  }
  load_legacy_h5_weights(*model, file);
  return std::move(*model);
}

bool is_hdf5_file(const std::filesystem::path& path) {
  static constexpr std::array<char, 8> kSignature{'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  // Only a regular file is opened: reading a FIFO or a device would block or never end, and
  // the reader that opens it next refuses those by name.
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::ifstream in(path, std::ios::binary);
  std::array<char, 8> head{};
  return in.read(head.data(), head.size()) && head == kSignature;
}

LegacyH5Model read_legacy_h5_model(const Hdf5File& file) {
  LegacyH5Model saved;
  const std::optional<std::string> config = text_attribute(file, "", "model_config");
  if (!config) {
    throw FileError(file.what() +
                    ": the root has no attribute 'model_config': not a Keras 2 model file "
                    "(model.save(\"model.h5\") writes one; a weights file is read by "
                    "load_weights)");
  }
  try {
    saved.model_config = parse_json_object(*config, "attribute 'model_config'");
    if (auto training = text_attribute(file, "", "training_config")) {
      saved.training_config = parse_json_object(*training, "attribute 'training_config'");
    }
  } catch (const FileError& e) {
    throw FileError(file.what() + ": " + e.what());
  }
  saved.keras_version = file_keras_version(file, "");
  check_backend(file, "");
  saved.backend = text_attribute(file, "", "backend").value_or("");
  return saved;
}

Model load_legacy_h5_model(const std::filesystem::path& path) {
  const Hdf5File file = Hdf5File::open(path);
  std::error_code error;
  const auto bytes = std::filesystem::file_size(path, error);
  return load_legacy_h5_model(file, error ? 0 : static_cast<size_t>(bytes));
}

bool is_legacy_h5_weights(const Hdf5File& file) {
  return chunked_list(file, "", "layer_names").has_value() || file.exists("model_weights");
}

void load_legacy_h5_weights(Model& model, const Hdf5File& file, bool by_name) {
  const bool model_file = !chunked_list(file, "", "layer_names") && file.exists("model_weights");
  const std::string group = model_file ? "model_weights" : "";
  file_keras_version(file, group);
  check_backend(file, group);
  const std::vector<SavedLayer> saved = saved_layers(file, group);
  if (file.exists(join_path(group, "top_level_model_weights"))) {
    const std::optional<std::vector<std::string>> top =
        chunked_list(file, join_path(group, "top_level_model_weights"), "weight_names");
    if (top && !top->empty()) {
      throw NotSupportedError(file.what() + ": group 'top_level_model_weights' holds " +
                              std::to_string(top->size()) +
                              " weights of the model itself (of a subclassed model); kattn "
                              "reads weights of layers only");
    }
  }
  std::vector<Layer*> layers;
  for (const std::shared_ptr<Operation>& operation : model.operations()) {
    Layer* layer = operation->layer();
    if (layer != nullptr && !layer->weights().empty()) layers.push_back(layer);
  }
  if (by_name) {
    std::map<std::string, Layer*, std::less<>> by_layer_name;
    for (Layer* layer : layers) by_layer_name[layer->name()] = layer;
    for (size_t k = 0; k < saved.size(); ++k) {
      const auto found = by_layer_name.find(saved[k].name);
      if (found != by_layer_name.end()) set_layer_weights(file, *found->second, saved[k], k);
    }
    return;
  }
  if (saved.size() != layers.size()) {
    throw FileError(file.what() +
                    ": layer count mismatch when loading weights from file. Model expected " +
                    std::to_string(layers.size()) + " layers, found " +
                    std::to_string(saved.size()) + " saved layers");
  }
  for (size_t k = 0; k < saved.size(); ++k) set_layer_weights(file, *layers[k], saved[k], k);
}

}  // namespace kattn
