// keras.Sequential: built by calling its layers one after the other (Sequential._maybe_rebuild),
// read from and written to config.json as Sequential.from_config and get_config do.
#include "kattn/models/sequential.hpp"

#include "core/node_inputs.hpp"
#include "models/model_config.hpp"
#include "models/operation_registry.hpp"
#include "models/text.hpp"

namespace kattn {

namespace {

// The model of `inputs` (an InputLayer's one output) through `layers`, each called on the
// previous one's output.
template <typename CallLayer>
Model chain(const KerasTensor& input, size_t count, const CallLayer& call_layer,
            const std::string& name) {
  KerasTensor x = input;
  for (size_t i = 0; i < count; ++i) x = call_layer(i, x);
  Model model(input, x, name);
  detail::SequentialModel::mark(model);
  return model;
}

}  // namespace

Model Sequential(const InputArgs& input, const std::vector<SymbolicLayer>& layers,
                 std::string name) {
  if (name.empty()) name = detail::unique_name("sequential");
  if (layers.empty()) {
    throw_value_error({"Sequential", name}, "a Sequential model needs layers",
                      "at least one layer after the input", "none");
  }
  return chain(
      Input(input), layers.size(), [&](size_t i, const KerasTensor& x) { return layers[i](x); },
      name);
}

namespace detail {

Model SequentialModel::from_config(const Config& config, const KerasVersion& keras_version) {
  const Config body = config.value("config", Config());
  const ConfigError top("Sequential", "");
  if (!body.is_object()) top.fail("`config`", "a JSON object", short_dump(body));
  ConfigReader reader(body, {"Sequential", config_layer_name(body)});
  const std::string name = reader.get_string("name", "sequential");
  check_operation_name({"Sequential", name}, name);
  const ConfigError errors("Sequential", name);
  const bool trainable = reader.get_bool("trainable", true);
  read_float32_dtype(reader);
  const Config layers = reader.get("layers", Config());
  const Config build_input_shape = reader.get("build_input_shape", nullptr);
  reader.check_all_read();
  if (!layers.is_array()) errors.fail("config.layers", "a list", short_dump(layers));
  refuse_unsupported(layers, errors);

  std::vector<std::shared_ptr<Operation>> operations;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Config& entry = layers[i];
    if (!entry.is_object() || !entry.value("config", Config()).is_object()) {
      errors.fail("config.layers[" + std::to_string(i) + "]", "an object with a config",
                  short_dump(entry));
    }
    std::shared_ptr<Operation> operation = operation_from_config(entry, keras_version);
    operation->follow_keras_version(keras_version);
    operations.push_back(std::move(operation));
  }
  // A Sequential saved built starts with its InputLayer; one saved from model.build(shape)
  // without it gets the InputLayer Keras's build() makes from build_input_shape.
  if (operations.empty() || !operations.front()->is_input()) {
    if (!build_input_shape.is_array()) {
      errors.fail("config.layers[0]",
                  "the model's InputLayer (a Sequential saved after it was built), or a "
                  "build_input_shape",
                  operations.empty() ? "no layers" : "class " + operations.front()->class_name());
    }
    operations.insert(
        operations.begin(),
        input_layer_from_config(Config{
            {"batch_shape", build_input_shape}, {"dtype", "float32"}, {"name", "input_layer"}}));
  }
  if (operations.size() < 2) {
    errors.fail("config.layers", "an InputLayer and at least one layer",
                std::to_string(operations.size()) + " layer(s)");
  }
  const KerasTensor input = call_symbolic(operations.front(), {}).front();
  Model model = chain(
      input, operations.size() - 1,
      [&](size_t i, const KerasTensor& x) {
        const std::shared_ptr<Operation>& operation = operations[i + 1];
        if (operation->is_input()) {
          errors.fail("config.layers[" + std::to_string(i + 1) + "]",
                      "one InputLayer, the first layer", "another InputLayer");
        }
        NodeArguments<KerasTensor> arguments;
        arguments.args.push_back(NodeArg<KerasTensor>::tensor(x));
        std::vector<KerasTensor> outputs = call_symbolic(operation, std::move(arguments));
        if (outputs.size() != 1) {
          errors.fail(
              "config.layers[" + std::to_string(i + 1) + "]",
              "a layer with one output (a Sequential's layers give one tensor)",
              "'" + operation->name() + "' with " + std::to_string(outputs.size()) + " outputs");
        }
        return outputs.front();
      },
      name);
  model.keras_version_ = keras_version;
  model.trainable_ = trainable;
  return model;
}

Config SequentialModel::to_config(const Model& model) {
  // The layers, keras.ops nodes left out: Keras records those again when it rebuilds the graph.
  Config layers = Config::array();
  for (const std::shared_ptr<Operation>& operation : model.operations()) {
    if (!operation->is_layer()) continue;
    Config entry{{"module", operation->module()},
                 {"class_name", operation->class_name()},
                 {"config", operation->get_config()},
                 {"registered_name", operation->registered_name()}};
    const Config build = operation->build_config();
    if (!build.is_null()) entry["build_config"] = build;
    const Config compile = operation->compile_config();
    if (!compile.is_null()) entry["compile_config"] = compile;
    layers.push_back(std::move(entry));
  }
  const Config input_shape = shape_config(model.inputs().front().shape());
  Config compile_config = model.get_compile_config();
  if (compile_config.is_null()) compile_config = Config::object();
  Config body = layer_args_config({.name = model.name(), .trainable = model.trainable_});
  body["layers"] = layers;
  body["build_input_shape"] = input_shape;
  return Config{{"module", "keras"},
                {"class_name", "Sequential"},
                {"config", body},
                {"registered_name", nullptr},
                {"build_config", {{"input_shape", input_shape}}},
                {"compile_config", compile_config}};
}

}  // namespace detail

}  // namespace kattn
