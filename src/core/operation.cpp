#include "kattn/core/operation.hpp"

#include <algorithm>

#include "kattn/core/layer.hpp"

namespace kattn {

namespace {

// Keras's Layer.__call__ step "populate mask argument": a call on exactly one tensor gets that
// tensor's Keras mask as `mask` when the layer's call takes one and none was passed (with
// masks_first_argument(), a call whose first argument is a tensor and passes no `mask`).
void populate_mask_argument(const Operation& operation, NodeArguments<KerasTensor>& arguments) {
  const std::vector<std::string>& parameters = operation.call_parameters();
  if (operation.layer() == nullptr ||
      std::find(parameters.begin(), parameters.end(), "mask") == parameters.end()) {
    return;
  }
  const bool first_argument = operation.masks_first_argument() && !arguments.args.empty() &&
                              arguments.args[0].is_tensor() && !arguments.kwargs.contains("mask");
  if (!first_argument &&
      (arguments.args.size() != 1 || !arguments.args[0].is_tensor() || !arguments.kwargs.empty())) {
    return;
  }
  const std::optional<KerasTensor> mask =
      std::get<KerasTensor>(arguments.args[0].value).keras_mask();
  NodeArg<KerasTensor> recorded;
  if (mask) recorded.value = *mask;
  arguments.kwargs.emplace("mask", std::move(recorded));
}

}  // namespace

OperationForward Operation::forward_node(const ValueArguments& arguments,
                                         const RunContext& context) const {
  return {call_node(arguments, context), nullptr};
}

ValueGradients Operation::backward_node(const ValueArguments& /*arguments*/,
                                        const BackwardPass& /*pass*/) const {
  throw NotSupportedError(error_message({class_name(), name()}, "no backward pass",
                                        "an operation kattn can train through",
                                        "class_name=" + class_name()));
}

Config Operation::registered_name() const {
  return is_layer() ? Config(nullptr) : Config(class_name());
}

WeightLayout Operation::weight_layout() const {
  WeightLayout layout;
  layout.groups.emplace_back("vars", name());
  if (const Layer* weights_of = layer()) {
    for (size_t i = 0; i < weights_of->weights().size(); ++i) {
      layout.datasets.push_back("vars/" + std::to_string(i));
    }
  }
  return layout;
}

std::vector<KerasTensor> call_symbolic(const std::shared_ptr<Operation>& operation,
                                       NodeArguments<KerasTensor> arguments) {
  populate_mask_argument(*operation, arguments);
  const std::string class_name = operation->class_name();
  const std::string name = operation->name();
  std::vector<KerasTensor> outputs;
  {
    const SymbolicArguments bound(arguments, operation->call_parameters(), {class_name, name});
    outputs = operation->compute_output_spec(bound);
  }
  auto node = std::make_shared<Node>();
  node->operation = operation;
  node->call_index = operation->next_call_index();
  node->arguments = std::move(arguments);
  for (const KerasTensor& output : outputs) {
    node->output_shapes.push_back(output.shape());
    node->output_dtypes.push_back(output.dtype());
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].set_history(node, static_cast<int64_t>(i));
  }
  return outputs;
}

}  // namespace kattn
