// GraphLayer: a layer whose call runs a graph of its sublayers (kattn/models/graph_layer.hpp).
#include "kattn/models/graph_layer.hpp"

#include <algorithm>
#include <map>

#include "core/node_inputs.hpp"
#include "kattn/models/input.hpp"
#include "models/model_backward.hpp"
#include "models/model_training.hpp"

namespace kattn {

struct GraphLayer::Saved {
  std::vector<ValuePtr> inputs;   // the graph's: copies of the call's
  std::vector<ValuePtr> outputs;  // the graph's
  std::vector<detail::NodeRun> runs;
};

GraphLayer::GraphLayer(std::string class_name, LayerArgs args)
    : Layer(std::move(class_name), std::move(args)) {}

const std::vector<std::string>& GraphLayer::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs"};
  return parameters;
}

GraphLayer::GraphLayer(std::string class_name, LayerArgs args, std::shared_ptr<Model> graph,
                       Graph layout)
    : Layer(std::move(class_name), std::move(args)) {
  build_once([&] { install(std::move(graph), std::move(layout)); });
}

void GraphLayer::install(std::shared_ptr<Model> graph, Graph layout) {
  graph_ = std::move(graph);
  sublayers_ = std::move(layout.sublayers);
  groups_ = std::move(layout.groups);
  for (const std::shared_ptr<Operation>& operation : graph_->operations()) {
    const Layer* layer = operation->layer();
    const bool listed = std::any_of(sublayers_.begin(), sublayers_.end(),
                                    [&](const auto& entry) { return entry.second.get() == layer; });
    if (layer != nullptr && !layer->weights().empty() && !listed) {
      throw_value_error(error_source(), "a layer of the graph has weights but no group",
                        "every layer with weights in Graph::sublayers, with its path",
                        "'" + layer->name() + "' (" + layer->class_name() + ")");
    }
  }
  for (const auto& [path, sublayer] : sublayers_) {
    for (const Variable& variable : sublayer->weights()) {
      const std::string weight = path + "/" + variable.name;
      add_weight(weight, variable.value.shape(),
                 {.initializer = Initializer::zeros(),
                  .regularizer = variable.regularizer,
                  .constraint = variable.constraint});
      set_weight(weight, variable.value);
    }
  }
}

void GraphLayer::build_from(const std::vector<KerasTensor>& inputs) {
  build_once([&] {
    // The batch axis stays free, as every layer of the graph takes any batch.
    std::vector<KerasTensor> graph_inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Shape shape = inputs[i].shape();
      if (!shape.empty()) shape[0] = -1;
      graph_inputs.push_back(Input({.batch_shape = shape,
                                    .dtype = inputs[i].dtype(),
                                    .name = name() + "_input_" + std::to_string(i)}));
    }
    Graph graph = build_graph(graph_inputs);
    auto model = std::make_shared<Model>(graph_inputs, graph.outputs, name());
    install(std::move(model), std::move(graph));
    record_build_config(Config{{"input_shape", detail::shape_config(inputs.front().shape())}});
  });
}

std::vector<KerasTensor> GraphLayer::compute_output_spec(const SymbolicArguments& arguments) {
  std::vector<KerasTensor> inputs;
  for (const std::optional<KerasTensor>& input : arguments.tensor_list("inputs")) {
    if (!input) {
      throw_value_error(error_source(), "invalid call argument `inputs`", "tensors", "None");
    }
    inputs.push_back(*input);
  }
  build_from(inputs);
  std::vector<KerasTensor> outputs;
  for (const KerasTensor& output : graph_->outputs()) {
    outputs.emplace_back(output.shape(), output.dtype());
  }
  return outputs;
}

std::vector<ValuePtr> GraphLayer::inputs_of(const ValueArguments& arguments) const {
  std::vector<ValuePtr> inputs;
  for (const std::optional<ValuePtr>& input : arguments.tensor_list("inputs")) {
    if (!input) {
      throw_value_error(error_source(), "invalid call argument `inputs`", "tensors", "None");
    }
    inputs.push_back(std::make_shared<ModelValue>(**input));
  }
  // A call's `mask` (Functional.call's) puts masks on the inputs.
  if (arguments.given("mask")) {
    const std::vector<std::optional<ValuePtr>> masks = arguments.tensor_list("mask");
    for (size_t i = 0; i < masks.size() && i < inputs.size(); ++i) {
      if (masks[i]) {
        inputs[i]->keras_mask = detail::mask_argument(masks[i], error_source(), "mask");
      }
    }
  }
  // Called before any symbolic call, as Keras builds a layer on its first eager call.
  if (!built()) {
    std::vector<KerasTensor> specs;
    for (const ValuePtr& input : inputs) {
      specs.emplace_back(shape_of(input->tensor), dtype_of(input->tensor));
    }
    const_cast<GraphLayer*>(this)->build_from(specs);
  }
  return inputs;
}

void GraphLayer::sync_sublayers() const {
  derived_from_weights([&]() -> std::shared_ptr<const void> {
    size_t next = 0;
    for (const auto& [path, sublayer] : sublayers_) {
      std::vector<Tensor> values;
      for (size_t i = 0; i < sublayer->weights().size(); ++i) {
        values.push_back(weights()[next++].value);
      }
      sublayer->set_weights(values);
    }
    return std::make_shared<int>(0);
  });
}

std::vector<ValuePtr> GraphLayer::outputs_of(const std::vector<ValuePtr>& graph_outputs) const {
  std::vector<ValuePtr> outputs;
  for (const ValuePtr& output : graph_outputs) {
    outputs.push_back(make_value(output->tensor, output->keras_mask));
  }
  return outputs;
}

std::vector<ValuePtr> GraphLayer::call_node(const ValueArguments& arguments,
                                            const RunContext& context) const {
  sync_sublayers();
  return outputs_of(graph_->run_values(inputs_of(arguments),
                                       {.training = arguments.flag("training", context.training)},
                                       nullptr, nullptr));
}

OperationForward GraphLayer::forward_node(const ValueArguments& arguments,
                                          const RunContext& context) const {
  sync_sublayers();
  auto saved = std::make_shared<Saved>();
  saved->inputs = inputs_of(arguments);
  saved->outputs =
      graph_->run_values(saved->inputs, {.training = arguments.flag("training", context.training)},
                         nullptr, &saved->runs);
  return {outputs_of(saved->outputs), saved};
}

ValueGradients GraphLayer::backward_node(const ValueArguments& arguments,
                                         const BackwardPass& pass) const {
  const auto& saved = *static_cast<const Saved*>(pass.forward.saved.get());
  check_gradient_buffers(pass.weight_gradients);
  std::vector<std::pair<ValuePtr, Tensor>> seeds;
  for (size_t i = 0; i < pass.d_outputs.size() && i < saved.outputs.size(); ++i) {
    if (pass.d_outputs[i]) seeds.emplace_back(saved.outputs[i], *pass.d_outputs[i]);
  }
  std::map<const Layer*, std::vector<Tensor>> sublayer_gradients;
  const std::map<const ModelValue*, Tensor> left =
      detail::backward_through(saved.runs, seeds, sublayer_gradients);
  // The sublayers' gradients, in this layer's weight order.
  size_t next = 0;
  for (const auto& [path, sublayer] : sublayers_) {
    const auto found = sublayer_gradients.find(sublayer.get());
    for (size_t i = 0; i < sublayer->weights().size(); ++i, ++next) {
      if (found == sublayer_gradients.end()) continue;
      Tensor& into = pass.weight_gradients[next];
      const Tensor part = found->second[i].contiguous();
      for (int64_t k = 0; k < into.size(); ++k) into.data()[k] += part.data()[k];
    }
  }
  ValueGradients gradients;
  const std::vector<std::optional<ValuePtr>> called = arguments.tensor_list("inputs");
  for (size_t i = 0; i < called.size(); ++i) {
    const auto found = left.find(saved.inputs[i].get());
    if (found != left.end()) gradients.emplace_back(*called[i], found->second);
  }
  return gradients;
}

WeightLayout GraphLayer::weight_layout() const {
  WeightLayout layout;
  layout.groups.emplace_back("vars", name());
  for (const auto& [path, sublayer] : sublayers_) {
    const WeightLayout inner = sublayer->weight_layout();
    for (const std::string& dataset : inner.datasets)
      layout.datasets.push_back(path + "/" + dataset);
    for (const auto& [group, attribute] : inner.groups) {
      layout.groups.emplace_back(path + "/" + group, attribute);
    }
  }
  for (const auto& [path, group_name] : groups_) layout.groups.emplace_back(path, group_name);
  for (auto& [path, group_name] : layout.groups) {
    if (const auto found = adopted_names_.find(path); found != adopted_names_.end()) {
      group_name = found->second;
    }
  }
  return layout;
}

void GraphLayer::adopt_group_names(const std::map<std::string, std::string>& names) {
  adopted_names_ = names;
}

}  // namespace kattn
