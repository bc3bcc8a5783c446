// Running a functional model: Keras's Functional.call / _run_through_graph.
#include <algorithm>
#include <map>
#include <memory>
#include <string_view>

#include "kattn/models/model.hpp"
#include "models/model_training.hpp"
#include "models/text.hpp"

namespace kattn {

namespace {

using TensorKey = std::pair<const Node*, int64_t>;

// Keras's Function._assert_input_compatibility: same rank, same fixed dimensions, and (here,
// where nothing is cast) the input's dtype.
void check_input(const KerasTensor& spec, const AnyTensor& value, const std::string& input_name,
                 ErrorSource source) {
  const Shape& shape = shape_of(value);
  bool fits = shape.size() == spec.shape().size();
  for (size_t i = 0; fits && i < shape.size(); ++i) {
    fits = spec.shape()[i] < 0 || spec.shape()[i] == shape[i];
  }
  if (!fits) {
    throw_value_error(source, "incompatible input '" + input_name + "'",
                      "shape " + detail::python_shape(spec.shape()),
                      input_name + " of shape " + detail::python_shape(shape));
  }
  if (dtype_of(value) != spec.dtype()) {
    throw_value_error(source, "incompatible input '" + input_name + "'",
                      "dtype " + std::string(dtype_name(spec.dtype())),
                      input_name + " of dtype " + std::string(dtype_name(dtype_of(value))));
  }
}

// The node's arguments with every symbolic tensor replaced by its value; false when one has
// not been computed.
bool fill_in(const NodeArg<KerasTensor>& symbolic, const std::map<TensorKey, ValuePtr>& values,
             NodeArg<ValuePtr>& concrete) {
  if (const auto* tensor = std::get_if<KerasTensor>(&symbolic.value)) {
    const auto it = values.find({tensor->node().get(), tensor->tensor_index()});
    if (it == values.end()) return false;
    concrete.value = it->second;
  } else if (const auto* list = std::get_if<std::vector<NodeArg<KerasTensor>>>(&symbolic.value)) {
    std::vector<NodeArg<ValuePtr>> items(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      if (!fill_in((*list)[i], values, items[i])) return false;
    }
    concrete.value = std::move(items);
  } else {
    concrete.value = std::get<Config>(symbolic.value);
  }
  return true;
}

// The call parameter that makes an attention layer return its scores.
constexpr std::string_view kScoresParameter = "return_attention_scores";

bool returns_scores_on_request(const Operation& operation) {
  const std::vector<std::string>& parameters = operation.call_parameters();
  return std::find(parameters.begin(), parameters.end(), kScoresParameter) != parameters.end();
}

// The argument with every value replaced by a copy (one per value object, so that a value
// passed twice stays one object); the tensors are shared.
NodeArg<ValuePtr> with_copied_values(const NodeArg<ValuePtr>& argument,
                                     std::map<const ModelValue*, ValuePtr>& copies) {
  NodeArg<ValuePtr> copy = argument;
  if (const auto* value = std::get_if<ValuePtr>(&argument.value)) {
    ValuePtr& copied = copies[value->get()];
    if (copied == nullptr) copied = std::make_shared<ModelValue>(**value);
    copy.value = copied;
  } else if (const auto* list = std::get_if<NodeArg<ValuePtr>::List>(&argument.value)) {
    NodeArg<ValuePtr>::List items;
    for (const NodeArg<ValuePtr>& item : *list) items.push_back(with_copied_values(item, copies));
    copy.value = std::move(items);
  }
  return copy;
}

// The scores of an attention call made without return_attention_scores: the call once more,
// asking for them, on copies of its values, since MultiHeadAttention clears the Keras masks of
// the values it is called on.
Tensor scores_of_call(const Node& node, const NodeArguments<ValuePtr>& arguments,
                      const RunContext& context) {
  std::map<const ModelValue*, ValuePtr> copies;
  NodeArguments<ValuePtr> asking;
  for (const NodeArg<ValuePtr>& argument : arguments.args) {
    asking.args.push_back(with_copied_values(argument, copies));
  }
  for (const auto& [key, argument] : arguments.kwargs) {
    asking.kwargs[key] = with_copied_values(argument, copies);
  }
  const std::vector<std::string>& parameters = node.operation->call_parameters();
  const auto position = static_cast<size_t>(
      std::find(parameters.begin(), parameters.end(), kScoresParameter) - parameters.begin());
  const NodeArg<ValuePtr> yes = NodeArg<ValuePtr>::literal(Config(true));
  if (position < asking.args.size()) {
    asking.args[position] = yes;
  } else {
    asking.kwargs[std::string(kScoresParameter)] = yes;
  }
  const ValueArguments bound(asking, parameters,
                             ErrorSource{node.operation->class_name(), node.operation->name()});
  return std::get<Tensor>(node.operation->call_node(bound, context).at(1)->tensor);
}

}  // namespace

std::vector<ValuePtr> Model::run(const std::vector<AnyTensor>& inputs, const PredictArgs& args,
                                 Trace* trace, std::vector<detail::NodeRun>* runs,
                                 std::vector<AttentionScores>* scores) const {
  std::vector<ValuePtr> values;
  for (const AnyTensor& input : inputs) values.push_back(make_value(input));
  return run_values(values, args, trace, runs, scores);
}

std::vector<ValuePtr> Model::run_values(const std::vector<ValuePtr>& inputs,
                                        const PredictArgs& args, Trace* trace,
                                        std::vector<detail::NodeRun>* runs,
                                        std::vector<AttentionScores>* scores) const {
  const ErrorSource source{sequential_ ? "Sequential" : "Functional", name_};
  const std::vector<std::string> names = input_names();
  if (inputs.size() != inputs_.size()) {
    throw_value_error(source, "wrong number of inputs",
                      std::to_string(inputs_.size()) + " inputs (" + detail::join(names) + ")",
                      std::to_string(inputs.size()) + " inputs");
  }
  std::map<TensorKey, ValuePtr> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_input(inputs_[i], inputs[i]->tensor, names[i], source);
    values[{inputs_[i].node().get(), inputs_[i].tensor_index()}] = inputs[i];
  }
  const RunContext context{args.training};
  for (const std::shared_ptr<Node>& node : execution_order_) {
    auto owned_arguments = std::make_unique<NodeArguments<ValuePtr>>();
    NodeArguments<ValuePtr>& arguments = *owned_arguments;
    bool computable = true;
    arguments.args.resize(node->arguments.args.size());
    for (size_t i = 0; computable && i < arguments.args.size(); ++i) {
      computable = fill_in(node->arguments.args[i], values, arguments.args[i]);
    }
    for (const auto& [key, arg] : node->arguments.kwargs) {
      if (!computable) break;
      computable = fill_in(arg, values, arguments.kwargs[key]);
    }
    if (!computable) continue;  // as Keras: a node whose inputs are missing is skipped
    const std::string class_name = node->operation->class_name();
    const std::string operation_name = node->operation->name();
    auto bound = std::make_unique<ValueArguments>(arguments, node->operation->call_parameters(),
                                                  ErrorSource{class_name, operation_name});
    std::vector<std::optional<Mask>> seen_masks;
    if (trace != nullptr) {
      for (const ValuePtr& input : flatten_tensors(arguments))
        seen_masks.push_back(input->keras_mask);
    }
    // Scores the call does not return are computed before it: it may clear its inputs' masks.
    const bool wants_scores = scores != nullptr && returns_scores_on_request(*node->operation);
    const bool returns_scores = wants_scores && bound->flag(kScoresParameter, false);
    if (wants_scores && !returns_scores) {
      scores->push_back({node, scores_of_call(*node, arguments, context)});
    }
    std::vector<ValuePtr> outputs;
    if (runs != nullptr) {
      OperationForward forward = node->operation->forward_node(*bound, context);
      outputs = forward.outputs;
      runs->push_back({node, std::move(owned_arguments), std::move(bound), std::move(forward)});
    } else {
      outputs = node->operation->call_node(*bound, context);
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      values[{node.get(), static_cast<int64_t>(i)}] = outputs[i];
    }
    if (returns_scores) scores->push_back({node, std::get<Tensor>(outputs.at(1)->tensor)});
    if (trace != nullptr) {
      trace->nodes.push_back(node);
      trace->outputs.push_back(outputs);
      trace->input_masks.push_back(std::move(seen_masks));
      std::vector<std::optional<Mask>> carried;
      for (const ValuePtr& output : outputs) carried.push_back(output->keras_mask);
      trace->output_masks.push_back(std::move(carried));
    }
  }
  std::vector<ValuePtr> results;
  for (const KerasTensor& output : outputs_) {
    results.push_back(values.at({output.node().get(), output.tensor_index()}));
  }
  return results;
}

std::vector<AnyTensor> Model::predict(const std::vector<AnyTensor>& inputs,
                                      const PredictArgs& args) const {
  std::vector<AnyTensor> results;
  for (const ValuePtr& value : run(inputs, args, nullptr, nullptr)) {
    results.push_back(value->tensor);
  }
  return results;
}

Model::Trace Model::trace(const std::vector<AnyTensor>& inputs, const PredictArgs& args) const {
  Trace traced;
  run(inputs, args, &traced, nullptr);
  return traced;
}

Model::ScoredPrediction Model::predict_with_attention_scores(
    const std::vector<AnyTensor>& inputs) const {
  ScoredPrediction prediction;
  for (const ValuePtr& value : run(inputs, {}, nullptr, nullptr, &prediction.attention_scores)) {
    prediction.outputs.push_back(value->tensor);
  }
  return prediction;
}

}  // namespace kattn
