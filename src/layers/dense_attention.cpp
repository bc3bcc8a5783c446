// DenseAttention: what keras.layers.Attention.call does around the score function, shared with
// AdditiveAttention (a subclass of Attention in Keras).
#include <memory>
#include <utility>

#include "kattn/layers/attention.hpp"
#include "layers/dense_attention_call.hpp"
#include "layers/dense_attention_checks.hpp"

namespace kattn {

namespace {

std::vector<Shape> shapes_of(const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  shapes.reserve(inputs.size());
  for (const Tensor& input : inputs) shapes.push_back(input.shape());
  return shapes;
}

}  // namespace

DenseAttention::DenseAttention(std::string class_name, LayerArgs args, bool use_scale,
                               double dropout, std::optional<int64_t> seed)
    : Layer(std::move(class_name), std::move(args)),
      use_scale_(use_scale),
      dropout_(dropout),
      seed_generator_(seed) {
  detail::check_dropout_rate(error_source(), dropout_);
}

void DenseAttention::build(const std::vector<Shape>& input_shapes) {
  detail::check_dense_attention_shapes(error_source(), input_shapes);
  build_once([&] { create_weights(input_shapes); });
}

void DenseAttention::check_built_shapes(const std::vector<Shape>& /*input_shapes*/) const {}

Shape DenseAttention::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  detail::check_dense_attention_shapes(error_source(), input_shapes);
  // Attention.compute_output_shape: (*query_shape[:-1], value_shape[-1]).
  Shape output(input_shapes[0].begin(), input_shapes[0].end() - 1);
  output.push_back(input_shapes[1].back());
  return output;
}

AttentionOutput DenseAttention::call(const Tensor& query, const Tensor& value,
                                     const DenseAttentionCallArgs& args) const {
  return call(std::vector<Tensor>{query, value}, args);
}

AttentionOutput DenseAttention::call(const Tensor& query, const Tensor& value, const Tensor& key,
                                     const DenseAttentionCallArgs& args) const {
  return call(std::vector<Tensor>{query, value, key}, args);
}

std::shared_ptr<detail::DenseAttentionCall> DenseAttention::prepare(
    const std::vector<Tensor>& inputs, const DenseAttentionCallArgs& args) const {
  // Every check first: nothing is computed for a call that will fail.
  const std::vector<Shape> shapes = shapes_of(inputs);
  detail::check_dense_attention_shapes(error_source(), shapes);
  detail::check_dense_attention_masks(error_source(), shapes[0], shapes[1], args.query_mask,
                                      args.value_mask);
  // Keras builds a layer on its first call; build_once makes that safe from many threads.
  build_once([&] { const_cast<DenseAttention*>(this)->create_weights(shapes); });
  check_built_shapes(shapes);

  auto call = std::make_shared<detail::DenseAttentionCall>();
  call->layer = this;
  // Attention.call: k = inputs[2] if len(inputs) > 2 else v.
  call->query = inputs[0].contiguous();
  call->value = inputs[1].contiguous();
  call->has_key = inputs.size() == 3;
  call->key = call->has_key ? inputs[2].contiguous() : call->value;
  if (args.query_mask) call->query_mask = args.query_mask->contiguous();
  if (args.value_mask) call->value_mask = args.value_mask->contiguous();
  const ops::DenseAttentionDims dims =
      ops::dense_attention_dims(call->query.shape(), call->key.shape(), call->value.shape());
  call->output_shape = Shape(call->query.shape().begin(), call->query.shape().end() - 1);
  call->output_shape.push_back(dims.value_dim);

  ops::DenseAttentionRun& run = call->run;
  run.dims = dims;
  run.score = score_function();
  run.query = call->query.data();
  run.key = call->key.data();
  run.value = call->value.data();
  run.query_mask = call->query_mask ? call->query_mask->data() : nullptr;
  run.value_mask = call->value_mask ? call->value_mask->data() : nullptr;
  run.use_causal_mask = args.use_causal_mask;
  // Attention._apply_scores: `if training and self.dropout > 0`; one key per such call.
  if (args.training && dropout_ > 0.0) {
    run.dropout_rate = dropout_;
    run.dropout_key = seed_generator_.next_key();
  }
  return call;
}

AttentionOutput DenseAttention::run(detail::DenseAttentionCall& call,
                                    bool return_attention_scores) const {
  Tensor output(call.output_shape);
  std::optional<Tensor> scores;
  if (return_attention_scores) {
    Shape scores_shape(call.query.shape().begin(), call.query.shape().end() - 1);
    scores_shape.push_back(call.run.dims.tv);
    scores.emplace(scores_shape);
  }
  call.run.output = output.data();
  call.run.scores = scores ? scores->data() : nullptr;
  ops::dense_attention(class_name(), call.run);
  call.run.output = call.run.scores = nullptr;

  AttentionOutput result;
  result.output = std::move(output);
  result.attention_scores = std::move(scores);
  return result;
}

AttentionOutput DenseAttention::call(const std::vector<Tensor>& inputs,
                                     const DenseAttentionCallArgs& args) const {
  return run(*prepare(inputs, args), args.return_attention_scores);
}

AttentionForward DenseAttention::forward(const std::vector<Tensor>& inputs,
                                         const DenseAttentionCallArgs& args) const {
  std::shared_ptr<detail::DenseAttentionCall> call = prepare(inputs, args);
  AttentionForward forward;
  forward.result = run(*call, args.return_attention_scores);
  forward.saved = std::move(call);
  return forward;
}

AttentionInputGradients DenseAttention::backward(const AttentionForward& forward,
                                                 const Tensor& d_output,
                                                 std::vector<Tensor>& weight_gradients) const {
  const auto* call = dynamic_cast<const detail::DenseAttentionCall*>(forward.saved.get());
  if (call == nullptr || call->layer != this) {
    throw_value_error(
        error_source(), "`forward` was not made by this layer's forward()",
        "the AttentionForward this layer's forward() returned",
        std::string("forward from ") + (forward.saved ? "another layer" : "no forward() call"));
  }
  if (d_output.shape() != call->output_shape) {
    throw_value_error(error_source(), "`d_output` must have the output's shape",
                      "shape " + shape_to_string(call->output_shape),
                      "d_output.shape=" + shape_to_string(d_output.shape()));
  }
  check_gradient_buffers(weight_gradients);

  AttentionInputGradients result;
  result.query = Tensor(call->query.shape());
  result.value = Tensor(call->value.shape());
  Tensor d_key(call->key.shape());
  ops::DenseAttentionGradients grads;
  grads.d_query = result.query.data();
  grads.d_key = d_key.data();
  grads.d_value = result.value.data();
  for (size_t i = 0; i < weights().size(); ++i) {
    if (weights()[i].name == "scale") grads.d_scale = weight_gradients[i].data();
    if (weights()[i].name == "concat_score_weight") {
      grads.d_concat_score_weight = weight_gradients[i].data();
    }
  }
  const Tensor d_out = d_output.contiguous();
  ops::dense_attention_backward(class_name(), call->run, d_out.data(), grads);
  if (call->has_key) {
    result.key = std::move(d_key);
  } else {
    // The value played the key too: its gradient is the sum of both roles'.
    float* d_value = result.value.data();
    for (int64_t i = 0; i < d_key.size(); ++i) d_value[i] += d_key.data()[i];
  }
  return result;
}

Config DenseAttention::get_config() const {
  Config config = Layer::get_config();
  config["use_scale"] = use_scale_;
  config["dropout"] = dropout_;
  config["seed"] = seed() ? Config(*seed()) : Config(nullptr);
  return config;
}

}  // namespace kattn
