// config.json for functional models: Keras's functional_from_config and Functional.get_config;
// what Sequential models share with them (models/model_config.hpp).
#include "models/model_config.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/node_inputs.hpp"
#include "kattn/models/custom_layers.hpp"
#include "kattn/models/model.hpp"
#include "models/operation_registry.hpp"
#include "models/text.hpp"

namespace kattn {

namespace detail {

void ConfigError::fail(const std::string& where, const std::string& expected,
                       const std::string& received) const {
  throw_value_error({model_class_, model_name_}, "invalid config at " + where, expected, received);
}

std::string short_dump(const Config& value) {
  std::string text = value.dump();
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

namespace {

// Classes of layers nested in an unsupported layer's config (Bidirectional's LSTM), so that
// the refusal names them too.
void nested_layer_classes(const Config& value, std::vector<std::string>& classes) {
  if (value.is_object()) {
    if (value.contains("class_name") && value["class_name"].is_string() &&
        config_string(value, "module").rfind("keras.layers", 0) == 0) {
      classes.push_back(value["class_name"].get<std::string>());
    }
    for (const auto& [key, item] : value.items()) nested_layer_classes(item, classes);
  } else if (value.is_array()) {
    for (const Config& item : value) nested_layer_classes(item, classes);
  }
}

}  // namespace

std::string entry_name(const Config& entry) {
  return entry.contains("name") ? config_string(entry, "name")
                                : config_layer_name(config_member(entry, "config"));
}

void refuse_unsupported(const Config& layers, const ConfigError& errors) {
  const auto known_layer = [&](const std::string& name) {
    return detail::is_supported(name, detail::kLayersModule);
  };
  std::vector<std::string> unsupported;
  std::string where;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Config& entry = layers[i];
    if (!config_member(entry, "class_name").is_string()) {
      errors.fail("config.layers[" + std::to_string(i) + "]", "an object with a class_name string",
                  short_dump(entry));
    }
    const std::string class_name = config_string(entry, "class_name");
    const std::string module = detail::config_module(entry);
    if (detail::is_supported(class_name, module) || is_registered_custom_layer(entry)) continue;
    // operation_from_config says how to register the class.
    if (!unregistered_custom_layer(entry).empty()) operation_from_config(entry);
    std::vector<std::string> classes{
        module == detail::kLayersModule ? class_name : class_name + " (module " + module + ")"};
    if (entry.contains("config")) nested_layer_classes(entry["config"], classes);
    for (const std::string& name : classes) {
      if (!known_layer(name) &&
          std::find(unsupported.begin(), unsupported.end(), name) == unsupported.end()) {
        unsupported.push_back(name);
      }
    }
    if (!where.empty()) where += ", ";
    where +=
        std::string("'").append(entry_name(entry)).append("' (").append(class_name).append(")");
  }
  if (unsupported.empty()) return;
  const std::string names = detail::join(unsupported);
  throw NotSupportedError(
      error_message({errors.model_class(), errors.model_name()},
                    "unsupported layer classes " + names + " in layers " + where,
                    "only " + detail::supported_classes_text(), "class_name=" + names));
}

}  // namespace detail

namespace {

using detail::ConfigError;
using detail::shape_config;
using detail::short_dump;

constexpr const char* kKerasTensor = "__keras_tensor__";

// The outputs of each node created so far, by operation name and config node index.
using CreatedNodes = std::map<std::string, std::vector<std::vector<KerasTensor>>, std::less<>>;

struct Deserializer {
  const CreatedNodes& created;
  const ConfigError& errors;
  std::string where;

  // Nullopt when the argument names a node that is not created yet.
  std::optional<NodeArg<KerasTensor>> arg(const Config& json) const {
    NodeArg<KerasTensor> out;
    if (json.is_array()) {
      std::vector<NodeArg<KerasTensor>> items;
      for (const Config& item : json) {
        std::optional<NodeArg<KerasTensor>> converted = arg(item);
        if (!converted) return std::nullopt;
        items.push_back(std::move(*converted));
      }
      out.value = std::move(items);
      return out;
    }
    if (!json.is_object()) {
      out.value = json;
      return out;
    }
    // Python slices and the Ellipsis in an indexing key (GetItem's) are plain values.
    const std::string class_name = config_string(json, "class_name");
    if (class_name == "__slice__" || class_name == "__ellipsis__") {
      out.value = json;
      return out;
    }
    if (class_name != kKerasTensor) {
      throw NotSupportedError(error_message({"Functional", ""},
                                            "unsupported node argument at " + where,
                                            "tensors, lists and plain values", short_dump(json)));
    }
    const Config history = config_member(config_member(json, "config"), "keras_history");
    if (!history.is_array() || history.size() != 3 || !history[0].is_string() ||
        !history[1].is_number_integer() || !history[2].is_number_integer()) {
      errors.fail(where, "keras_history [layer name, node index, tensor index]", short_dump(json));
    }
    const std::string layer = history[0].get<std::string>();
    const int64_t node_index = history[1].get<int64_t>();
    const int64_t tensor_index = history[2].get<int64_t>();
    const auto found = created.find(layer);
    if (found == created.end())
      errors.fail(where, "a tensor of a layer of the model", "layer '" + layer + "'");
    if (node_index < 0 || tensor_index < 0)
      errors.fail(where, "non-negative indices", short_dump(history));
    if (static_cast<size_t>(node_index) >= found->second.size()) return std::nullopt;
    const std::vector<KerasTensor>& outputs = found->second[static_cast<size_t>(node_index)];
    if (static_cast<size_t>(tensor_index) >= outputs.size()) {
      errors.fail(where, "a tensor index below " + std::to_string(outputs.size()),
                  short_dump(history));
    }
    out.value = outputs[static_cast<size_t>(tensor_index)];
    return out;
  }
};

// [name, node, tensor] triples (a flat triple for a bare tensor) as model inputs or outputs.
std::vector<KerasTensor> endpoint_tensors(const Config& json, const CreatedNodes& created,
                                          const ConfigError& errors, const std::string& where,
                                          bool& flat) {
  flat = json.is_array() && json.size() == 3 && json[0].is_string();
  const Config triples = flat ? Config::array({json}) : json;
  if (!triples.is_array() || triples.empty())
    errors.fail(where, "a list of [name, node, tensor]", short_dump(json));
  std::vector<KerasTensor> tensors;
  const Deserializer deserializer{created, errors, where};
  for (const Config& triple : triples) {
    if (!triple.is_array() || triple.size() != 3)
      errors.fail(where, "[name, node, tensor]", short_dump(triple));
    Config tensor{{"class_name", kKerasTensor}, {"config", {{"keras_history", triple}}}};
    std::optional<NodeArg<KerasTensor>> arg = deserializer.arg(tensor);
    if (!arg) errors.fail(where, "a node that exists", short_dump(triple));
    tensors.push_back(std::get<KerasTensor>(arg->value));
  }
  return tensors;
}

Config serialize_arg(const NodeArg<KerasTensor>& arg, const Model& model) {
  if (const auto* tensor = std::get_if<KerasTensor>(&arg.value)) {
    return Config{{"class_name", kKerasTensor},
                  {"config",
                   {{"shape", shape_config(tensor->shape())},
                    {"dtype", dtype_name(tensor->dtype())},
                    {"keras_history",
                     {tensor->node()->operation->name(), model.saved_node_index(*tensor->node()),
                      tensor->tensor_index()}}}}};
  }
  if (const auto* list = std::get_if<std::vector<NodeArg<KerasTensor>>>(&arg.value)) {
    Config items = Config::array();
    for (const NodeArg<KerasTensor>& item : *list) items.push_back(serialize_arg(item, model));
    return items;
  }
  return std::get<Config>(arg.value);
}

Config endpoints_config(const std::vector<KerasTensor>& tensors, bool flat, const Model& model) {
  Config triples = Config::array();
  for (const KerasTensor& tensor : tensors) {
    triples.push_back({tensor.node()->operation->name(), model.saved_node_index(*tensor.node()),
                       tensor.tensor_index()});
  }
  return flat ? triples[0] : triples;
}

}  // namespace

Model Model::from_config(const Config& config, const KerasVersion& keras_version) {
  const ConfigError top("Model", "");
  if (!config.is_object()) top.fail("the top level", "a JSON object", config.type_name());
  const std::string class_name = config_string(config, "class_name");
  if (class_name == "Sequential")
    return detail::SequentialModel::from_config(config, keras_version);
  if (class_name != "Functional") {
    throw NotSupportedError(error_message({"Model", ""}, "unsupported model class",
                                          "a Functional or Sequential model",
                                          "class_name=" + class_name));
  }
  const ConfigError functional("Functional", "");
  const Config body = config.value("config", Config());
  if (!body.is_object()) functional.fail("`config`", "a JSON object", short_dump(body));
  const Config name_entry = body.value("name", Config("functional"));
  if (!name_entry.is_string()) {
    functional.fail("config.name", "a string", short_dump(name_entry));
  }
  const std::string model_name = name_entry.get<std::string>();
  check_operation_name({"Model", model_name}, model_name);
  const ConfigError errors("Functional", model_name);
  const Config layers = body.value("layers", Config());
  if (!layers.is_array()) errors.fail("config.layers", "a list", short_dump(layers));
  detail::refuse_unsupported(layers, errors);

  CreatedNodes created;
  std::vector<std::shared_ptr<Operation>> operations;
  std::vector<size_t> next_node(layers.size(), 0);
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string where = "config.layers[" + std::to_string(i) + "]";
    const Config& entry = layers[i];
    if (!entry.is_object() || !entry.contains("config") ||
        !entry.value("name", Config()).is_string() ||
        !entry.value("inbound_nodes", Config()).is_array()) {
      errors.fail(where, "an object with name, config and inbound_nodes", short_dump(entry));
    }
    const std::string name = entry["name"].get<std::string>();
    check_operation_name({config_string(entry, "class_name"), name}, name);
    std::shared_ptr<Operation> operation = detail::operation_from_config(entry, keras_version);
    operation->follow_keras_version(keras_version);
    if (operation->name() != name || created.count(name) != 0) {
      errors.fail(where + ".name", "a unique name equal to config.name",
                  "name=" + name + " for an operation named " + operation->name());
    }
    created[name];
    if (operation->is_input()) created[name].push_back(call_symbolic(operation, {}));
    operations.push_back(std::move(operation));
  }

  // Keras calls each layer on its nodes in order, deferring a node until the nodes it reads
  // exist.
  bool pending = true;
  while (pending) {
    pending = false;
    bool progress = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (operations[i]->is_input()) continue;
      const Config& nodes = layers[i]["inbound_nodes"];
      while (next_node[i] < nodes.size()) {
        const std::string where = "config.layers[" + std::to_string(i) + "].inbound_nodes[" +
                                  std::to_string(next_node[i]) + "]";
        const Config& node = nodes[next_node[i]];
        const Config args = node.is_object() ? node.value("args", Config()) : Config();
        const Config kwargs = node.is_object() ? node.value("kwargs", Config()) : Config();
        if (!args.is_array() || !kwargs.is_object()) {
          errors.fail(where, "{\"args\": [...], \"kwargs\": {...}}", short_dump(node));
        }
        const Deserializer deserializer{created, errors, where};
        NodeArguments<KerasTensor> arguments;
        bool ready = true;
        for (const Config& arg : args) {
          std::optional<NodeArg<KerasTensor>> converted = deserializer.arg(arg);
          if (!converted) {
            ready = false;
            break;
          }
          arguments.args.push_back(std::move(*converted));
        }
        for (const auto& [key, value] : kwargs.items()) {
          if (!ready) break;
          std::optional<NodeArg<KerasTensor>> converted = deserializer.arg(value);
          if (!converted) {
            ready = false;
            break;
          }
          arguments.kwargs.emplace(key, std::move(*converted));
        }
        if (!ready) break;
        created[operations[i]->name()].push_back(
            call_symbolic(operations[i], std::move(arguments)));
        ++next_node[i];
        progress = true;
      }
      pending = pending || next_node[i] < layers[i]["inbound_nodes"].size();
    }
    if (pending && !progress) {
      for (size_t i = 0; i < layers.size(); ++i) {
        if (next_node[i] < layers[i]["inbound_nodes"].size()) {
          errors.fail("config.layers[" + std::to_string(i) + "].inbound_nodes[" +
                          std::to_string(next_node[i]) + "]",
                      "inputs computed by other nodes of the model",
                      "a node of '" + operations[i]->name() + "' whose inputs never exist");
        }
      }
    }
  }

  bool flat_inputs = false, flat_outputs = false;
  std::vector<KerasTensor> inputs = endpoint_tensors(body.value("input_layers", Config()), created,
                                                     errors, "config.input_layers", flat_inputs);
  std::vector<KerasTensor> outputs = endpoint_tensors(
      body.value("output_layers", Config()), created, errors, "config.output_layers", flat_outputs);
  Model model(std::move(inputs), std::move(outputs), model_name);
  model.flat_inputs_ = flat_inputs;
  model.flat_outputs_ = flat_outputs;
  model.keras_version_ = keras_version;
  const Config trainable = body.value("trainable", Config(true));
  if (!trainable.is_boolean()) errors.fail("config.trainable", "a boolean", short_dump(trainable));
  model.trainable_ = trainable.get<bool>();
  return model;
}

Config Model::to_config() const {
  if (sequential_) return detail::SequentialModel::to_config(*this);
  Config layers = Config::array();
  for (const std::shared_ptr<Operation>& operation : operations_) {
    Config entry{{"module", operation->module()},
                 {"class_name", operation->class_name()},
                 {"config", operation->get_config()},
                 {"registered_name", operation->registered_name()},
                 {"name", operation->name()}};
    const Config build = operation->build_config();
    if (!build.is_null()) entry["build_config"] = build;
    const Config compile = operation->compile_config();
    if (!compile.is_null()) entry["compile_config"] = compile;
    std::vector<std::shared_ptr<Node>> nodes;
    for (const std::shared_ptr<Node>& node : nodes_) {
      if (node->operation == operation && !operation->is_input()) nodes.push_back(node);
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const auto& a, const auto& b) { return a->call_index < b->call_index; });
    Config inbound = Config::array();
    for (const std::shared_ptr<Node>& node : nodes) {
      Config args = Config::array();
      for (const NodeArg<KerasTensor>& arg : node->arguments.args)
        args.push_back(serialize_arg(arg, *this));
      Config kwargs = Config::object();
      for (const auto& [key, arg] : node->arguments.kwargs) kwargs[key] = serialize_arg(arg, *this);
      inbound.push_back({{"args", args}, {"kwargs", kwargs}});
    }
    entry["inbound_nodes"] = inbound;
    layers.push_back(std::move(entry));
  }
  // Keras 3.16 writes an empty compile_config for a model never compiled.
  Config compile_config = get_compile_config();
  if (compile_config.is_null()) compile_config = Config::object();
  return Config{{"module", "keras.src.models.functional"},
                {"class_name", "Functional"},
                {"config",
                 {{"name", name_},
                  {"trainable", trainable_},
                  {"layers", layers},
                  {"input_layers", endpoints_config(inputs_, flat_inputs_, *this)},
                  {"output_layers", endpoints_config(outputs_, flat_outputs_, *this)}}},
                {"registered_name", "Functional"},
                {"build_config", {{"input_shape", nullptr}}},
                {"compile_config", compile_config}};
}

}  // namespace kattn
