#include "models/legacy_config.hpp"

#include <set>
#include <utility>
#include <vector>

#include "core/operation_entry.hpp"
#include "models/model_config.hpp"

namespace kattn::detail {

namespace {

constexpr const char* kFunctionalModule = "keras.src.models.functional";

// "<Class> '<name>': <what>. Expected ... Received: ..." for the layer entry `entry`.
std::string message_for(const Config& entry, const std::string& what, const std::string& expected,
                        const std::string& received) {
  const std::string class_name = config_string(entry, "class_name");
  const std::string name = config_layer_name(config_member(entry, "config"));
  return error_message({class_name, name}, what, expected, received);
}

[[noreturn]] void fail(const Config& entry, const std::string& what, const std::string& expected,
                       const Config& received) {
  throw ValueError(message_for(entry, what, expected, short_dump(received)));
}

[[noreturn]] void refuse(const Config& entry, const std::string& what, const std::string& expected,
                         const std::string& received) {
  throw NotSupportedError(message_for(entry, what, expected, received));
}

// Removes `key` from `config` when it holds `harmless` (or is absent); refuses any other value.
void drop_if(Config& config, const Config& entry, const std::string& key, const Config& harmless,
             const std::string& why) {
  if (!config.contains(key)) return;
  if (config[key] != harmless) {
    refuse(entry, "Keras 2 argument " + key + "=" + short_dump(config[key]) + " " + why,
           key + "=" + short_dump(harmless), key + "=" + short_dump(config[key]));
  }
  config.erase(key);
}

}  // namespace

Config upgrade_layer_entry(const Config& entry);

namespace {

// Keras 3's legacy model_from_config, for every layer config: `axis` lists of one become ints.
void upgrade_axis(Config& config) {
  if (!config.contains("axis")) return;
  Config& axis = config["axis"];
  if (axis.is_array() && axis.size() == 1 && axis[0].is_number_integer()) axis = axis[0];
}

// The layer configs nested in a wrapper layer or a model used as a layer.
void upgrade_nested(Config& config, const std::string& key) {
  if (config.contains(key) && config[key].is_object())
    config[key] = upgrade_layer_entry(config[key]);
}

// Class by class, the Keras 2 arguments Keras 3 spells differently. Returns whether the
// layer's calls must get use_causal_mask=True (Attention's deprecated `causal`).
bool upgrade_layer_config(const std::string& class_name, Config& config, const Config& entry) {
  config.erase("batch_input_shape");
  upgrade_axis(config);
  bool causal = false;
  if (class_name == "Attention" || class_name == "AdditiveAttention") {
    const Config flag = config.value("causal", Config(false));
    if (!flag.is_boolean()) fail(entry, "malformed `causal`", "true or false", flag);
    causal = flag.get<bool>();
    config.erase("causal");
  } else if (class_name == "MultiHeadAttention") {
    // The stored shapes become the build_config (upgrade_layer_entry).
    for (const char* key : {"query_shape", "value_shape", "key_shape"}) config.erase(key);
    drop_if(config, entry, "softmax_robust_masking", false,
            "(softmax over fully masked rows with -inf) has no Keras 3 equivalent");
  } else if (class_name == "LSTM" || class_name == "GRU" || class_name == "SimpleRNN") {
    drop_if(config, entry, "time_major", false, "(time-major inputs) is not supported");
    // CuDNN-style (1) and fused (2) implementations compute the same values.
    config.erase("implementation");
  } else if (class_name == "LeakyReLU" && config.contains("alpha")) {
    config["negative_slope"] = config["alpha"];
    config.erase("alpha");
  } else if (class_name == "Embedding") {
    config.erase("input_length");  // Keras 3 takes the length from the input
  } else if (class_name.rfind("SpatialDropout", 0) == 0) {
    drop_if(config, entry, "noise_shape", nullptr, "(SpatialDropout's own noise shape is fixed)");
  } else if (class_name == "Bidirectional") {
    upgrade_nested(config, "layer");
    upgrade_nested(config, "backward_layer");
  } else if (class_name == "TimeDistributed") {
    upgrade_nested(config, "layer");
  }
  return causal;
}

bool is_recurrent(const std::string& class_name) {
  return class_name == "LSTM" || class_name == "GRU" || class_name == "SimpleRNN" ||
         class_name == "Bidirectional";
}

// A Keras 2 node: a list of [layer, node, tensor, kwargs] entries, the layer's first call
// argument (a single tensor, or the list), the kwargs repeated on each. A recurrent layer
// called with initial_state records [sequences, state, ...] as its first argument (tf.keras 2's
// RNN.__call__ joins them); Keras 3 passes the states as `initial_state`.
Config upgrade_node(const Config& node, const Config& entry, size_t index) {
  const std::string where = "inbound_nodes[" + std::to_string(index) + "]";
  if (!node.is_array() || node.empty()) {
    fail(entry, "malformed " + where, "a list of [layer name, node index, tensor index, kwargs]",
         node);
  }
  Config tensors = Config::array();
  Config kwargs = Config::object();
  for (const Config& item : node) {
    if (!is_legacy_tensor_triple(item)) {
      fail(entry, "malformed " + where, "[layer name, node index, tensor index, kwargs]", item);
    }
    tensors.push_back(legacy_keras_tensor(item[0].get<std::string>(), item[1].get<int64_t>(),
                                          item[2].get<int64_t>()));
    if (item.size() == 4) kwargs = upgrade_legacy_call_argument(item[3]);
  }
  if (is_recurrent(config_string(entry, "class_name")) && tensors.size() > 1) {
    kwargs["initial_state"] = Config(tensors.begin() + 1, tensors.end());
    tensors.erase(tensors.begin() + 1, tensors.end());
  }
  Config first = tensors.size() == 1 ? tensors[0] : tensors;
  return Config{{"args", Config::array({std::move(first)})}, {"kwargs", std::move(kwargs)}};
}

Config upgrade_functional(const Config& model_config, const Config& entry);
Config upgrade_sequential(const Config& model_config, const Config& entry);

}  // namespace

Config upgrade_layer_entry(const Config& entry) {
  if (!entry.is_object() || !entry.value("class_name", Config()).is_string() ||
      !entry.value("config", Config()).is_object()) {
    throw ValueError(error_message({"Model", ""}, "malformed layer entry",
                                   "an object with class_name and config", short_dump(entry)));
  }
  const std::string class_name = entry["class_name"].get<std::string>();
  if (class_name == "TFOpLambda" || class_name == "SlicingOpLambda") {
    return upgrade_legacy_tf_op(entry);
  }
  Config upgraded = entry;
  if (class_name == "Functional" || class_name == "Model") {
    upgraded = Config{{"module", kFunctionalModule},
                      {"class_name", "Functional"},
                      {"config", upgrade_functional(entry["config"], entry)}};
  } else if (class_name == "Sequential") {
    upgraded = Config{{"module", "keras"},
                      {"class_name", "Sequential"},
                      {"config", upgrade_sequential(entry["config"], entry)}};
  } else if (class_name == "InputLayer") {
    Config& config = upgraded["config"];
    if (config.contains("batch_input_shape")) {
      config["batch_shape"] = config["batch_input_shape"];
      config.erase("batch_input_shape");
    }
    upgraded["module"] = kLayersModule;
  } else {
    const bool causal = upgrade_layer_config(class_name, upgraded["config"], entry);
    upgraded["module"] = kLayersModule;
    if (class_name == "MultiHeadAttention") {
      Config shapes = Config::object();
      for (const char* key : {"query_shape", "value_shape", "key_shape"}) {
        if (entry["config"].contains(key) && !entry["config"][key].is_null()) {
          shapes[key] = entry["config"][key];
        }
      }
      if (!shapes.empty()) upgraded["build_config"] = {{"shapes_dict", shapes}};
    }
    if (causal) {
      for (Config& node : upgraded["inbound_nodes"]) {
        if (node.is_array()) {
          for (Config& item : node) {
            if (item.is_array() && item.size() == 3) item.push_back(Config::object());
            if (item.is_array() && item.size() == 4 && item[3].is_object() &&
                !item[3].contains("use_causal_mask")) {
              item[3]["use_causal_mask"] = true;
            }
          }
        }
      }
    }
  }
  if (entry.contains("inbound_nodes")) {
    const Config& nodes =
        upgraded.contains("inbound_nodes") ? upgraded["inbound_nodes"] : entry["inbound_nodes"];
    if (!nodes.is_array()) fail(entry, "malformed inbound_nodes", "a list of nodes", nodes);
    Config converted = Config::array();
    for (size_t i = 0; i < nodes.size(); ++i) converted.push_back(upgrade_node(nodes[i], entry, i));
    upgraded["inbound_nodes"] = std::move(converted);
    upgraded["name"] = entry.value("name", Config(config_layer_name(entry["config"])));
  }
  return upgraded;
}

namespace {

// Whether Keras 2 numbers the nodes of this layer of a model from 1: a model used as a layer
// that was made with its inputs keeps its own first node (input to output) out of the config
// (tf.keras's _should_skip_first_node).
bool skips_first_node(const Config& entry) {
  const std::string class_name = config_string(entry, "class_name");
  if (class_name == "Functional" || class_name == "Model") return true;
  if (class_name != "Sequential") return false;
  const Config layers = config_member(config_member(entry, "config"), "layers");
  if (!layers.is_array() || layers.empty()) return false;
  return config_string(layers[0], "class_name") == "InputLayer" ||
         !config_member(config_member(layers[0], "config"), "batch_input_shape").is_null();
}

// Renumbers, in Keras 3's way from 0, the node indices of tensor references to the layers in
// `skipping`: in keras_history triples below `value` and, with `triples`, in `value` itself
// (a list of [name, node, tensor], input_layers and output_layers).
void renumber_nodes(Config& value, const std::set<std::string, std::less<>>& skipping,
                    bool triples) {
  const auto renumber = [&](Config& triple) {
    if (triple.is_array() && triple.size() == 3 && triple[0].is_string() &&
        triple[1].is_number_integer() && skipping.contains(triple[0].get<std::string>()) &&
        triple[1].get<int64_t>() > 0) {
      triple[1] = triple[1].get<int64_t>() - 1;
    }
  };
  if (triples && value.is_array()) {
    if (value.size() == 3 && value[0].is_string()) {
      renumber(value);
    } else {
      for (Config& triple : value) renumber(triple);
    }
    return;
  }
  if (value.is_object() && value.contains("keras_history")) renumber(value["keras_history"]);
  if (value.is_structured()) {
    for (Config& item : value) renumber_nodes(item, skipping, false);
  }
}

Config upgrade_functional(const Config& model_config, const Config& entry) {
  Config upgraded = model_config;
  const Config layers = model_config.value("layers", Config());
  if (!layers.is_array()) fail(entry, "malformed config.layers", "a list", layers);
  std::set<std::string, std::less<>> skipping;
  for (const Config& layer : layers) {
    if (skips_first_node(layer)) skipping.insert(config_layer_name(layer));
  }
  upgraded["layers"] = Config::array();
  for (const Config& layer : layers) {
    Config upgraded_layer = upgrade_layer_entry(layer);
    if (upgraded_layer.contains("inbound_nodes")) {
      renumber_nodes(upgraded_layer["inbound_nodes"], skipping, false);
    }
    upgraded["layers"].push_back(std::move(upgraded_layer));
  }
  for (const char* key : {"input_layers", "output_layers"}) {
    if (upgraded.contains(key)) renumber_nodes(upgraded[key], skipping, true);
  }
  return upgraded;
}

Config upgrade_sequential(const Config& model_config, const Config& entry) {
  Config upgraded = model_config;
  const Config layers = model_config.value("layers", Config());
  if (!layers.is_array()) fail(entry, "malformed config.layers", "a list", layers);
  upgraded["layers"] = Config::array();
  // keras.Sequential([Dense(4, input_shape=(3,)), ...]): Keras 2 records the input on the
  // first layer; Keras 3 (and kattn) start the Sequential with its InputLayer.
  if (!layers.empty() && config_string(layers[0], "class_name") != "InputLayer") {
    const Config first = config_member(layers[0], "config");
    const Config shape = config_member(first, "batch_input_shape");
    if (!shape.is_null()) {
      const Config dtype = config_member(first, "dtype");
      upgraded["layers"].push_back({{"module", kLayersModule},
                                    {"class_name", "InputLayer"},
                                    {"config",
                                     {{"batch_shape", shape},
                                      {"dtype", dtype.is_string() ? dtype : Config("float32")},
                                      {"name", config_layer_name(first) + "_input"}}}});
    }
  }
  for (const Config& layer : layers) upgraded["layers"].push_back(upgrade_layer_entry(layer));
  return upgraded;
}

}  // namespace

Config legacy_keras_tensor(const std::string& layer, int64_t node, int64_t tensor) {
  return Config{{"class_name", "__keras_tensor__"},
                {"config", {{"keras_history", {layer, node, tensor}}}}};
}

bool is_legacy_tensor_triple(const Config& value) {
  return value.is_array() && (value.size() == 3 || value.size() == 4) && value[0].is_string() &&
         value[1].is_number_integer() && value[2].is_number_integer() &&
         (value.size() == 3 || value[3].is_object());
}

Config upgrade_legacy_call_argument(const Config& value) {
  if (is_legacy_tensor_triple(value) && value.size() == 3) {
    return legacy_keras_tensor(value[0].get<std::string>(), value[1].get<int64_t>(),
                               value[2].get<int64_t>());
  }
  if (!value.is_structured()) return value;
  Config upgraded = value;
  for (Config& item : upgraded) item = upgrade_legacy_call_argument(item);
  return upgraded;
}

}  // namespace kattn::detail

namespace kattn {

using detail::short_dump;

Config upgrade_legacy_model_config(const Config& model_config) {
  if (!model_config.is_object()) {
    throw ValueError(error_message({"Model", ""}, "malformed model_config", "a JSON object",
                                   short_dump(model_config)));
  }
  const std::string class_name = config_string(model_config, "class_name");
  if (class_name != "Functional" && class_name != "Model" && class_name != "Sequential") {
    throw NotSupportedError(error_message({"Model", ""}, "unsupported model class",
                                          "a Functional, Model or Sequential model",
                                          "class_name=" + class_name));
  }
  Config upgraded = detail::upgrade_layer_entry(model_config);
  upgraded.erase("module");
  return upgraded;
}

}  // namespace kattn
