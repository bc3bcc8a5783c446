// The attention layers in a model graph: which Keras masks they read, which they give their
// outputs, and (MultiHeadAttention) which they clear; training calls run the layers' forward()
// and backward(). docs/semantics.md and the model-level golden README ("How Keras masks
// travel") state the rules mirrored here.
#include "kattn/layers/attention.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "models/operation_registry.hpp"
#include "models/operations/layer_operation.hpp"
#include "models/operations/numpy_operations.hpp"

namespace kattn::detail {

namespace {

// The attention layers' backward passes take the output's gradient only: a gradient reaching
// the returned scores is refused by name.
void check_no_scores_gradient(ErrorSource source,
                              const std::vector<std::optional<Tensor>>& d_outputs) {
  if (d_outputs.size() < 2 || !d_outputs[1]) return;
  throw NotSupportedError(error_message(source, "no backward pass through the attention scores",
                                        "a gradient for the output only",
                                        "a gradient for output 1 (the attention scores)"));
}

// Scores of a symbolic call: the query shape without its features, then the key length.
Shape dense_scores_shape(const Shape& query, const Shape& value) {
  Shape shape(query.begin(), query.end() - 1);
  shape.push_back(value[value.size() - 2]);
  return shape;
}

// Attention and AdditiveAttention: call(inputs=[query, value, key], mask=[query_mask,
// value_mask], training, return_attention_scores, use_causal_mask).
template <typename L>
class DenseAttentionOperation : public LayerOperation<L> {
 public:
  using LayerOperation<L>::LayerOperation;
  using LayerOperation<L>::source;

  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs", "mask", "training",
                                                     "return_attention_scores", "use_causal_mask"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const std::vector<KerasTensor> inputs = input_list(arguments);
    std::vector<Shape> shapes;
    Config build_shapes = Config::array();
    for (size_t i = 0; i < inputs.size(); ++i) {
      check_dtype(inputs[i], DType::kFloat32, source(), "inputs");
      shapes.push_back(inputs[i].shape());
      build_shapes.push_back(shape_config(inputs[i].shape()));
    }
    this->layer_->build(shapes);
    this->record_build_config(Config{{"input_shape", build_shapes}});
    KerasTensor output(this->layer_->compute_output_shape(shapes), DType::kFloat32);
    // Keras's Attention.compute_mask: convert_to_tensor(mask[0]) when there is a query mask.
    std::optional<KerasTensor> query_mask = inputs[0].keras_mask();
    if (arguments.given("mask")) {
      const std::vector<std::optional<KerasTensor>> masks = arguments.tensor_list("mask");
      query_mask = masks.empty() ? std::nullopt : masks[0];
    }
    if (query_mask) output.set_keras_mask(symbolic_convert_to_tensor(*query_mask));
    std::vector<KerasTensor> outputs{output};
    if (arguments.flag("return_attention_scores", false)) {
      outputs.emplace_back(dense_scores_shape(shapes[0], shapes[1]), DType::kFloat32);
    }
    return outputs;
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext& context) const override {
    const std::vector<ValuePtr> inputs = input_list(arguments);
    const DenseAttentionCallArgs args = call_args(arguments, context, inputs);
    return outputs_of(this->layer_->call(float_tensors(inputs), args), args);
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext& context) const override {
    const std::vector<ValuePtr> inputs = input_list(arguments);
    const DenseAttentionCallArgs args = call_args(arguments, context, inputs);
    AttentionForward call = this->layer_->forward(float_tensors(inputs), args);
    OperationForward result;
    result.outputs = outputs_of(call.result, args);
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  // The gradients of inputs [query, value(, key)], one entry per role: a value passed as both
  // query and value (self-attention) gets two entries, which add up. The masks get none.
  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    const AttentionForward& call = saved_call<AttentionForward>(*this, forward, source());
    check_no_scores_gradient(source(), d_outputs);
    const Tensor* d_output = output_gradient(d_outputs, 0);
    if (d_output == nullptr) return {};
    const std::vector<ValuePtr> inputs = input_list(arguments);
    AttentionInputGradients grads = this->layer_->backward(call, *d_output, weight_gradients);
    ValueGradients result{{inputs[0], std::move(grads.query)}, {inputs[1], std::move(grads.value)}};
    if (grads.key) result.emplace_back(inputs[2], std::move(*grads.key));
    return result;
  }

 private:
  std::vector<Tensor> float_tensors(const std::vector<ValuePtr>& inputs) const {
    std::vector<Tensor> tensors;
    for (const ValuePtr& input : inputs) tensors.push_back(float_input(*input, source(), "inputs"));
    return tensors;
  }

  DenseAttentionCallArgs call_args(const BoundArguments<ValuePtr>& arguments,
                                   const RunContext& context,
                                   const std::vector<ValuePtr>& inputs) const {
    // An explicit mask=[query_mask, value_mask] wins; otherwise Keras passes the masks the
    // input tensors carry.
    std::optional<Mask> query_mask = inputs[0]->keras_mask;
    std::optional<Mask> value_mask = inputs[1]->keras_mask;
    if (arguments.given("mask")) {
      const std::vector<std::optional<ValuePtr>> masks = arguments.tensor_list("mask");
      query_mask = masks.size() > 0 ? mask_argument(masks[0], source(), "mask") : std::nullopt;
      value_mask = masks.size() > 1 ? mask_argument(masks[1], source(), "mask") : std::nullopt;
    }
    return {.query_mask = query_mask,
            .value_mask = value_mask,
            .use_causal_mask = arguments.flag("use_causal_mask", false),
            .return_attention_scores = arguments.flag("return_attention_scores", false),
            .training = arguments.flag("training", context.training)};
  }

  // The output carries the query mask; the scores, when asked for, none.
  static std::vector<ValuePtr> outputs_of(const AttentionOutput& result,
                                          const DenseAttentionCallArgs& args) {
    std::vector<ValuePtr> outputs{make_value(result.output, args.query_mask)};
    if (result.attention_scores) outputs.push_back(make_value(*result.attention_scores));
    return outputs;
  }

  template <typename Leaf>
  std::vector<Leaf> input_list(const BoundArguments<Leaf>& arguments) const {
    std::vector<Leaf> inputs;
    for (const std::optional<Leaf>& input : arguments.tensor_list("inputs")) {
      if (!input) break;
      inputs.push_back(*input);
    }
    if (inputs.size() < 2 || inputs.size() > 3) {
      throw_value_error(source(), "invalid call argument `inputs`",
                        "a list [query, value] or [query, value, key]",
                        "inputs of length " + std::to_string(inputs.size()));
    }
    return inputs;
  }
};

// MultiHeadAttention and GroupQueryAttention: call(query, value, key, query_mask, value_mask,
// key_mask, attention_mask, return_attention_scores, training, use_causal_mask).
template <typename L>
class ProjectedAttentionOperation : public LayerOperation<L> {
 public:
  // Keras names the Softmax and Dropout sub-layers by its process-wide counters ("softmax",
  // "softmax_1", ...); a loaded model keeps the names its file has.
  explicit ProjectedAttentionOperation(std::shared_ptr<L> layer)
      : LayerOperation<L>(std::move(layer)),
        softmax_name_(unique_name("softmax")),
        dropout_name_(unique_name("dropout")) {}
  using LayerOperation<L>::source;

  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"query",
                                                     "value",
                                                     "key",
                                                     "query_mask",
                                                     "value_mask",
                                                     "key_mask",
                                                     "attention_mask",
                                                     "return_attention_scores",
                                                     "training",
                                                     "use_causal_mask"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& query = arguments.tensor("query");
    const KerasTensor& value = arguments.tensor("value");
    const std::optional<KerasTensor> key = arguments.optional_tensor("key");
    for (const auto& [tensor, name] : {std::pair{query, "query"}, std::pair{value, "value"}}) {
      check_dtype(tensor, DType::kFloat32, source(), name);
    }
    if (key) check_dtype(*key, DType::kFloat32, source(), "key");
    const std::optional<Shape> key_shape = key ? std::optional(key->shape()) : std::nullopt;
    this->layer_->build(query.shape(), value.shape(), key_shape);
    Config shapes{{"query_shape", shape_config(query.shape())},
                  {"value_shape", shape_config(value.shape())}};
    if (key) shapes["key_shape"] = shape_config(key->shape());
    this->record_build_config(Config{{"shapes_dict", shapes}});

    KerasTensor output(this->layer_->compute_output_shape(query.shape(), value.shape(), key_shape),
                       DType::kFloat32);
    // The output carries the query's mask (Keras's compute_mask returns query_mask).
    std::optional<KerasTensor> query_mask = query.keras_mask();
    if (reads_explicit_query_mask && arguments.given("query_mask")) {
      query_mask = arguments.optional_tensor("query_mask");
    }
    if (query_mask) output.set_keras_mask(query_mask);
    std::vector<KerasTensor> outputs{output};
    if (arguments.flag("return_attention_scores", false)) {
      outputs.emplace_back(scores_shape(query.shape(), key_shape.value_or(value.shape())),
                           DType::kFloat32);
    }
    return outputs;
  }

  // Keras's sub-layers: query_dense, ... for MultiHeadAttention, _query_dense, ... for
  // GroupQueryAttention, each with vars/0 = kernel and vars/1 = bias, plus the weightless
  // _softmax and _dropout_layer.
  WeightLayout weight_layout() const override {
    const std::string prefix = clears_input_masks ? "" : "_";
    const std::vector<std::pair<std::string, std::string>> sublayers{
        {"query", prefix + "query_dense"},
        {"key", prefix + "key_dense"},
        {"value", prefix + "value_dense"},
        {"attention_output", prefix + "output_dense"},
        {"gate", "_gate_dense"}};
    WeightLayout layout;
    layout.groups.emplace_back("vars", this->layer_->name());
    for (const Variable& weight : this->layer_->weights()) {
      const size_t slash = weight.name.find('/');
      const std::string sublayer = weight.name.substr(0, slash);
      for (const auto& [keras_name, group] : sublayers) {
        if (keras_name != sublayer) continue;
        layout.datasets.push_back(group + "/vars/" +
                                  (weight.name.substr(slash + 1) == "kernel" ? "0" : "1"));
        if (layout.groups.back().first != group + "/vars") {
          layout.groups.emplace_back(group + "/vars", keras_name);
        }
      }
    }
    layout.groups.emplace_back("_softmax/vars", softmax_name_);
    layout.groups.emplace_back("_dropout_layer/vars", dropout_name_);
    return layout;
  }

  void adopt_group_names(const std::map<std::string, std::string>& names) override {
    if (const auto it = names.find("_softmax/vars"); it != names.end()) softmax_name_ = it->second;
    if (const auto it = names.find("_dropout_layer/vars"); it != names.end()) {
      dropout_name_ = it->second;
    }
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext& context) const override {
    const ProjectedAttentionCallArgs args = call_args(arguments, context);
    AttentionOutput result =
        this->layer_->call(float_input(*arguments.tensor("query"), source(), "query"),
                           float_input(*arguments.tensor("value"), source(), "value"), args);
    return finish(arguments, result, args);
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext& context) const override {
    const ProjectedAttentionCallArgs args = call_args(arguments, context);
    AttentionForward call =
        this->layer_->forward(float_input(*arguments.tensor("query"), source(), "query"),
                              float_input(*arguments.tensor("value"), source(), "value"), args);
    OperationForward result;
    result.outputs = finish(arguments, call.result, args);
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  // The gradients of query, value and key (when given), one entry per role: a value passed in
  // several roles (self-attention) gets one entry for each, which add up. The masks get none.
  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    const AttentionForward& call = saved_call<AttentionForward>(*this, forward, source());
    check_no_scores_gradient(source(), d_outputs);
    const Tensor* d_output = output_gradient(d_outputs, 0);
    if (d_output == nullptr) return {};
    AttentionInputGradients grads = this->layer_->backward(call, *d_output, weight_gradients);
    ValueGradients result{{arguments.tensor("query"), std::move(grads.query)},
                          {arguments.tensor("value"), std::move(grads.value)}};
    if (grads.key) result.emplace_back(*arguments.optional_tensor("key"), std::move(*grads.key));
    return result;
  }

 private:
  static constexpr bool clears_input_masks = std::is_same_v<L, MultiHeadAttention>;
  std::string softmax_name_;
  std::string dropout_name_;
  static constexpr bool reads_explicit_query_mask = !clears_input_masks;

  ProjectedAttentionCallArgs call_args(const BoundArguments<ValuePtr>& arguments,
                                       const RunContext& context) const {
    const ValuePtr& query = arguments.tensor("query");
    const ValuePtr& value = arguments.tensor("value");
    const std::optional<ValuePtr> key = arguments.optional_tensor("key");
    ProjectedAttentionCallArgs args;
    if (key) args.key = float_input(**key, source(), "key");
    // MultiHeadAttention reads the query mask from the query tensor only (an explicit
    // query_mask is ignored); GroupQueryAttention takes the keyword first.
    args.query_mask = query->keras_mask;
    if (reads_explicit_query_mask && arguments.given("query_mask")) {
      args.query_mask =
          mask_argument(arguments.optional_tensor("query_mask"), source(), "query_mask");
    }
    args.value_mask =
        arguments.given("value_mask")
            ? mask_argument(arguments.optional_tensor("value_mask"), source(), "value_mask")
            : value->keras_mask;
    if (arguments.given("key_mask")) {
      args.key_mask = mask_argument(arguments.optional_tensor("key_mask"), source(), "key_mask");
    } else if (key) {
      args.key_mask = (*key)->keras_mask;
    }
    args.attention_mask =
        mask_argument(arguments.optional_tensor("attention_mask"), source(), "attention_mask");
    args.use_causal_mask = arguments.flag("use_causal_mask", false);
    args.return_attention_scores = arguments.flag("return_attention_scores", false);
    args.training = arguments.flag("training", context.training);
    return args;
  }

  // The outputs of a call that gave `result`, after clearing the input masks where Keras does.
  std::vector<ValuePtr> finish(const BoundArguments<ValuePtr>& arguments,
                               const AttentionOutput& result,
                               const ProjectedAttentionCallArgs& args) const {
    if (clears_input_masks) {
      // Keras's MultiHeadAttention.call sets `_keras_mask = None` on its input tensors.
      arguments.tensor("query")->keras_mask.reset();
      arguments.tensor("value")->keras_mask.reset();
      if (const std::optional<ValuePtr> key = arguments.optional_tensor("key")) {
        (*key)->keras_mask.reset();
      }
    }
    // The output carries the query mask the call used.
    std::vector<ValuePtr> outputs{make_value(result.output, args.query_mask)};
    if (result.attention_scores) outputs.push_back(make_value(*result.attention_scores));
    return outputs;
  }

  // (B, <other axes>, N, <query attention axes>, <key attention axes>).
  Shape scores_shape(const Shape& query, const Shape& key) const {
    std::vector<int64_t> axes{1};
    int64_t heads = 0;
    if constexpr (std::is_same_v<L, MultiHeadAttention>) {
      axes = this->layer_->attention_axes().value_or(axes);
      heads = this->layer_->num_heads();
    } else {
      heads = this->layer_->num_query_heads();
    }
    Shape shape;
    for (size_t axis = 0; axis + 1 < query.size(); ++axis) {
      if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(axis)) == axes.end()) {
        shape.push_back(query[axis]);
      }
    }
    shape.push_back(heads);
    for (int64_t axis : axes) shape.push_back(query[static_cast<size_t>(axis)]);
    for (int64_t axis : axes) shape.push_back(key[static_cast<size_t>(axis)]);
    return shape;
  }
};

}  // namespace

std::vector<OperationEntry> attention_operation_entries() {
  return {layer_entry<DenseAttentionOperation<Attention>, Attention>("Attention"),
          layer_entry<DenseAttentionOperation<AdditiveAttention>, AdditiveAttention>(
              "AdditiveAttention"),
          layer_entry<ProjectedAttentionOperation<MultiHeadAttention>, MultiHeadAttention>(
              "MultiHeadAttention"),
          layer_entry<ProjectedAttentionOperation<GroupedQueryAttention>, GroupedQueryAttention>(
              "GroupQueryAttention")};
}

}  // namespace kattn::detail
