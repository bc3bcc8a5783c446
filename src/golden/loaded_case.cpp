#include "golden/loaded_case.hpp"

#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"

namespace kattn::golden {

namespace {

Config read_json(const std::filesystem::path& path) {
  const std::string text = read_file_bytes(path);
  Config json = Config::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw FileError("malformed JSON in '" + path.string() + "'");
  return json;
}

// manifest[key] as an array, or FileError naming the key.
const Config& array_at(const Config& object, const char* key, const std::filesystem::path& file) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) {
    throw FileError("malformed '" + file.string() + "': `" + key + "` must be a list");
  }
  return object[key];
}

std::string string_at(const Config& object, const char* key, const std::filesystem::path& file) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) {
    throw FileError("malformed '" + file.string() + "': `" + key + "` must be a string");
  }
  return object[key].get<std::string>();
}

}  // namespace

std::vector<Tensor> LoadedCase::ordered_inputs() const {
  std::vector<Tensor> tensors;
  for (const std::string& name : input_names) tensors.push_back(inputs.at(name));
  return tensors;
}

std::vector<Shape> LoadedCase::input_shapes() const {
  std::vector<Shape> shapes;
  for (const std::string& name : input_names) shapes.push_back(inputs.at(name).shape());
  return shapes;
}

std::optional<Mask> LoadedCase::mask(const std::string& name) const {
  const auto it = masks.find(name);
  if (it == masks.end()) return std::nullopt;
  return it->second;
}

LoadedCase load_case(const std::filesystem::path& dir) {
  LoadedCase loaded;
  loaded.dir = dir;
  const std::filesystem::path manifest_path = dir / "case.json";
  loaded.manifest = read_json(manifest_path);
  loaded.config = read_json(dir / "layer.json");

  const Config& layer_call = loaded.manifest.value("layer_call", Config());
  for (const Config& input : array_at(layer_call, "inputs", manifest_path)) {
    const std::string name = string_at(input, "name", manifest_path);
    loaded.input_names.push_back(name);
    loaded.inputs[name] = read_npy_tensor(dir / string_at(input, "file", manifest_path));
  }
  for (const Config& mask : array_at(layer_call, "masks", manifest_path)) {
    loaded.masks[string_at(mask, "name", manifest_path)] =
        read_npy_mask(dir / string_at(mask, "file", manifest_path));
  }
  const Config& call_args = loaded.manifest.value("call_args", Config::object());
  loaded.use_causal_mask = call_args.value("use_causal_mask", false);
  loaded.return_attention_scores = call_args.value("return_attention_scores", false);
  loaded.training = call_args.value("training", false);
  return loaded;
}

void load_case_weights(Layer& layer, const LoadedCase& loaded) {
  const std::filesystem::path manifest_path = loaded.dir / "case.json";
  for (const Config& weight : array_at(loaded.manifest, "weights", manifest_path)) {
    layer.set_weight(string_at(weight, "path", manifest_path),
                     read_npy_tensor(loaded.dir / string_at(weight, "file", manifest_path)));
  }
}

CaseGradients case_gradients(const Layer& layer, AttentionInputGradients inputs,
                             std::vector<Tensor> weight_gradients) {
  CaseGradients gradients;
  gradients.roles["query"] = std::move(inputs.query);
  gradients.roles["value"] = std::move(inputs.value);
  if (inputs.key) gradients.roles["key"] = std::move(*inputs.key);
  for (size_t i = 0; i < weight_gradients.size(); ++i) {
    gradients.weights[layer.weight_path(layer.weights()[i])] = std::move(weight_gradients[i]);
  }
  return gradients;
}

}  // namespace kattn::golden
