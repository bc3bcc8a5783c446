// Attention and AdditiveAttention as graph nodes: which Keras masks they read and which they
// give their outputs. docs/semantics.md and the model-level golden README ("How Keras masks
// travel") state the rules mirrored here.
#include "core/node_inputs.hpp"
#include "kattn/layers/attention.hpp"
#include "layers/detail/attention_node.hpp"
#include "ops/numpy_operations.hpp"

namespace kattn {

namespace {

// Scores of a symbolic call: the query shape without its features, then the key length.
Shape dense_scores_shape(const Shape& query, const Shape& value) {
  Shape shape(query.begin(), query.end() - 1);
  shape.push_back(value[value.size() - 2]);
  return shape;
}

// A node's `inputs`: [query, value] or [query, value, key].
template <typename Leaf>
std::vector<Leaf> attention_inputs(const BoundArguments<Leaf>& arguments, ErrorSource source) {
  std::vector<Leaf> inputs;
  for (const std::optional<Leaf>& input : arguments.tensor_list("inputs")) {
    if (!input) break;
    inputs.push_back(*input);
  }
  if (inputs.size() < 2 || inputs.size() > 3) {
    throw_value_error(source, "invalid call argument `inputs`",
                      "a list [query, value] or [query, value, key]",
                      "inputs of length " + std::to_string(inputs.size()));
  }
  return inputs;
}

DenseAttentionCallArgs call_args(const ValueArguments& arguments, const RunContext& context,
                                 const std::vector<ValuePtr>& inputs, ErrorSource source) {
  // An explicit mask=[query_mask, value_mask] wins; otherwise Keras passes the masks the
  // input tensors carry.
  std::optional<Mask> query_mask = inputs[0]->keras_mask;
  std::optional<Mask> value_mask = inputs[1]->keras_mask;
  if (arguments.given("mask")) {
    const std::vector<std::optional<ValuePtr>> masks = arguments.tensor_list("mask");
    query_mask = masks.size() > 0 ? detail::mask_argument(masks[0], source, "mask") : std::nullopt;
    value_mask = masks.size() > 1 ? detail::mask_argument(masks[1], source, "mask") : std::nullopt;
  }
  return {.query_mask = query_mask,
          .value_mask = value_mask,
          .use_causal_mask = arguments.flag("use_causal_mask", false),
          .return_attention_scores = arguments.flag("return_attention_scores", false),
          .training = arguments.flag("training", context.training)};
}

// The output carries the query mask; the scores, when asked for, none.
std::vector<ValuePtr> outputs_of(const AttentionOutput& result,
                                 const DenseAttentionCallArgs& args) {
  std::vector<ValuePtr> outputs{make_value(result.output, args.query_mask)};
  if (result.attention_scores) outputs.push_back(make_value(*result.attention_scores));
  return outputs;
}

}  // namespace

const std::vector<std::string>& DenseAttention::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs", "mask", "training",
                                                   "return_attention_scores", "use_causal_mask"};
  return parameters;
}

std::vector<KerasTensor> DenseAttention::compute_output_spec(const SymbolicArguments& arguments) {
  const std::vector<KerasTensor> inputs = attention_inputs(arguments, error_source());
  detail::ListInputShapes input_shapes = detail::float_input_shapes(inputs, error_source());
  const std::vector<Shape>& shapes = input_shapes.shapes;
  build(shapes);
  record_build_config(std::move(input_shapes.build_config));
  KerasTensor output(compute_output_shape(shapes), DType::kFloat32);
  // Keras's Attention.compute_mask: convert_to_tensor(mask[0]) when there is a query mask.
  std::optional<KerasTensor> query_mask = inputs[0].keras_mask();
  if (arguments.given("mask")) {
    const std::vector<std::optional<KerasTensor>> masks = arguments.tensor_list("mask");
    query_mask = masks.empty() ? std::nullopt : masks[0];
  }
  if (query_mask) output.set_keras_mask(detail::symbolic_convert_to_tensor(*query_mask));
  std::vector<KerasTensor> outputs{output};
  if (arguments.flag("return_attention_scores", false)) {
    outputs.emplace_back(dense_scores_shape(shapes[0], shapes[1]), DType::kFloat32);
  }
  return outputs;
}

std::vector<ValuePtr> DenseAttention::call_node(const ValueArguments& arguments,
                                                const RunContext& context) const {
  const std::vector<ValuePtr> inputs = attention_inputs(arguments, error_source());
  const DenseAttentionCallArgs args = call_args(arguments, context, inputs, error_source());
  return outputs_of(call(detail::float_inputs(inputs, error_source()), args), args);
}

OperationForward DenseAttention::forward_node(const ValueArguments& arguments,
                                              const RunContext& context) const {
  const std::vector<ValuePtr> inputs = attention_inputs(arguments, error_source());
  const DenseAttentionCallArgs args = call_args(arguments, context, inputs, error_source());
  AttentionForward saved = forward(detail::float_inputs(inputs, error_source()), args);
  return {outputs_of(saved.result, args), detail::save_call(*this, std::move(saved))};
}

// The gradients of inputs [query, value(, key)]; the masks get none.
ValueGradients DenseAttention::backward_node(const ValueArguments& arguments,
                                             const BackwardPass& pass) const {
  return detail::attention_backward(*this, attention_inputs(arguments, error_source()), pass);
}

}  // namespace kattn
