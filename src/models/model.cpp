#include "kattn/models/model.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "core/node_inputs.hpp"
#include "models/text.hpp"

namespace kattn {

namespace {

using TensorKey = std::pair<const Node*, int64_t>;

TensorKey key_of(const KerasTensor& tensor) { return {tensor.node().get(), tensor.tensor_index()}; }

}  // namespace

Model::Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name)
    : name_(name.empty() ? detail::unique_name("functional") : std::move(name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {
  map_graph();
}

Model::Model(const KerasTensor& input, const KerasTensor& output, std::string name)
    : Model(std::vector<KerasTensor>{input}, std::vector<KerasTensor>{output}, std::move(name)) {
  flat_inputs_ = true;
  flat_outputs_ = true;
}

Model::Model(const KerasTensor& input, std::vector<KerasTensor> outputs, std::string name)
    : Model(std::vector<KerasTensor>{input}, std::move(outputs), std::move(name)) {
  flat_inputs_ = true;
}

// keras.src.ops.function.map_graph: a depth-first walk from the outputs orders the nodes from
// the inputs to the outputs; a node's depth is its distance from the outputs; nodes run by
// decreasing depth, each depth in the order its nodes were first reached.
void Model::map_graph() {
  const ErrorSource source{"Functional", name_};
  if (inputs_.empty() || outputs_.empty()) {
    throw_value_error(source, "a model needs inputs and outputs",
                      "at least one input and one output",
                      std::to_string(inputs_.size()) + " inputs and " +
                          std::to_string(outputs_.size()) + " outputs");
  }
  std::set<TensorKey> input_keys;
  for (const KerasTensor& input : inputs_) {
    if (!input.node() || !input.node()->operation->is_input()) {
      throw_value_error(source, "invalid model input", "tensors made by kattn::Input",
                        "a tensor of shape " + detail::python_shape(input.shape()) + " made by " +
                            (input.node() ? "layer '" + input.node()->operation->name() + "'"
                                          : std::string("no layer")));
    }
    input_keys.insert(key_of(input));
  }

  // _build_map
  std::vector<std::shared_ptr<Node>> nodes_in_decreasing_depth;
  std::set<const Node*> finished, in_progress;
  std::unordered_map<const Operation*, int64_t> operation_index;
  std::vector<std::shared_ptr<Operation>> operations_seen;
  std::function<void(const KerasTensor&)> visit = [&](const KerasTensor& tensor) {
    const std::shared_ptr<Node>& node = tensor.node();
    if (!node) {
      throw_value_error(source, "a tensor no layer produced",
                        "tensors from kattn::Input and layers",
                        "a tensor of shape " + detail::python_shape(tensor.shape()));
    }
    if (finished.count(node.get()) != 0) return;
    if (in_progress.count(node.get()) != 0) {
      throw_value_error(source, "the graph has a cycle", "an acyclic graph",
                        "a cycle through '" + node->operation->name() + "'");
    }
    if (operation_index.emplace(node->operation.get(), operation_index.size()).second) {
      operations_seen.push_back(node->operation);
    }
    in_progress.insert(node.get());
    if (!node->operation->is_input() && input_keys.count(key_of(tensor)) == 0) {
      for (const KerasTensor& input : node->input_tensors()) visit(input);
    }
    finished.insert(node.get());
    in_progress.erase(node.get());
    nodes_in_decreasing_depth.push_back(node);
  };
  for (const KerasTensor& output : outputs_) visit(output);

  // Depths, kept in the insertion order of Keras's dicts.
  std::vector<std::shared_ptr<Node>> node_order;
  std::unordered_map<const Node*, int64_t> node_depth;
  std::unordered_map<const Operation*, int64_t> operation_depth;
  std::vector<std::shared_ptr<Operation>> operation_order;
  const auto set_node_depth = [&](const std::shared_ptr<Node>& node, int64_t depth) {
    if (node_depth.emplace(node.get(), depth).second) {
      node_order.push_back(node);
    } else {
      node_depth[node.get()] = depth;
    }
  };
  for (auto it = nodes_in_decreasing_depth.rbegin(); it != nodes_in_decreasing_depth.rend(); ++it) {
    const std::shared_ptr<Node>& node = *it;
    if (node_depth.count(node.get()) == 0) set_node_depth(node, 0);
    int64_t depth = node_depth[node.get()];
    const auto previous = operation_depth.find(node->operation.get());
    if (previous != operation_depth.end()) {
      depth = std::max(depth, previous->second);
      previous->second = depth;
    } else {
      operation_depth.emplace(node->operation.get(), depth);
      operation_order.push_back(node->operation);
    }
    set_node_depth(node, depth);
    for (const KerasTensor& input : node->input_tensors()) {
      const std::shared_ptr<Node>& parent = input.node();
      const auto known = node_depth.find(parent.get());
      set_node_depth(parent, std::max(depth + 1, known == node_depth.end() ? 0 : known->second));
    }
  }
  // Inputs the outputs do not depend on still belong to the model.
  for (const KerasTensor& input : inputs_) {
    const std::shared_ptr<Node>& node = input.node();
    if (operation_depth.count(node->operation.get()) == 0) {
      operation_depth.emplace(node->operation.get(), 0);
      operation_order.push_back(node->operation);
      operation_index[node->operation.get()] = -1;
      set_node_depth(node, 0);
    }
  }

  std::map<int64_t, std::vector<std::shared_ptr<Operation>>, std::greater<>> operations_by_depth;
  for (const std::shared_ptr<Operation>& operation : operation_order) {
    operations_by_depth[operation_depth[operation.get()]].push_back(operation);
  }
  operations_.clear();
  for (auto& [depth, operations] : operations_by_depth) {
    std::stable_sort(operations.begin(), operations.end(), [&](const auto& a, const auto& b) {
      return operation_index[a.get()] < operation_index[b.get()];
    });
    operations_.insert(operations_.end(), operations.begin(), operations.end());
  }

  std::map<int64_t, std::vector<std::shared_ptr<Node>>, std::greater<>> nodes_by_depth;
  for (const std::shared_ptr<Node>& node : node_order) {
    nodes_by_depth[node_depth[node.get()]].push_back(node);
  }
  nodes_.clear();
  execution_order_.clear();
  std::set<TensorKey> computable = input_keys;
  for (const auto& [depth, nodes] : nodes_by_depth) {
    for (const std::shared_ptr<Node>& node : nodes) {
      nodes_.push_back(node);
      if (node->operation->is_input()) {
        if (input_keys.count({node.get(), 0}) == 0) {
          throw_value_error(source, "the graph is disconnected",
                            "every input layer the outputs depend on among the model inputs",
                            "input '" + node->operation->name() + "' not in the inputs");
        }
        continue;
      }
      for (const KerasTensor& input : node->input_tensors()) {
        if (computable.count(key_of(input)) == 0) {
          throw_value_error(source, "the graph is disconnected",
                            "every tensor computable from the inputs",
                            "an input of '" + node->operation->name() + "' that is not");
        }
      }
      for (size_t i = 0; i < node->output_shapes.size(); ++i) {
        computable.insert({node.get(), static_cast<int64_t>(i)});
      }
      execution_order_.push_back(node);
    }
  }

  std::map<std::string, int64_t> names;
  for (const std::shared_ptr<Operation>& operation : operations_) ++names[operation->name()];
  for (const auto& [operation_name, count] : names) {
    if (count > 1) {
      throw_value_error(
          source, "two operations share a name", "unique operation names",
          "the name '" + operation_name + "' used " + std::to_string(count) + " times");
    }
  }
}

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> names;
  for (const KerasTensor& input : inputs_) names.push_back(input.node()->operation->name());
  return names;
}

std::vector<std::string> Model::output_names() const {
  std::vector<std::string> names;
  for (const KerasTensor& output : outputs_) names.push_back(output.node()->operation->name());
  return names;
}

Layer& Model::get_layer(const std::string& layer_name) const {
  std::vector<std::string> known;
  for (const std::shared_ptr<Operation>& operation : operations_) {
    if (Layer* layer = operation->layer()) {
      if (layer->name() == layer_name) return *layer;
      known.push_back(layer->name());
    }
  }
  throw_value_error({"Functional", name_}, "no layer of that name",
                    "one of: " + detail::join(known), "name=" + layer_name);
}

int64_t Model::saved_node_index(const Node& node) const {
  int64_t index = 0;
  for (const std::shared_ptr<Node>& other : nodes_) {
    if (other->operation == node.operation && other->call_index < node.call_index) ++index;
  }
  return index;
}

}  // namespace kattn
