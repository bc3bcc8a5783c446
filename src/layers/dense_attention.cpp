// DenseAttention: what keras.layers.Attention.call does around the score function, shared with
// AdditiveAttention (a subclass of Attention in Keras).
#include <utility>

#include "kattn/layers/attention.hpp"
#include "layers/dense_attention_checks.hpp"
#include "layers/dense_attention_dims.hpp"
#include "layers/dense_attention_kernels.hpp"

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

AttentionOutput DenseAttention::call(const std::vector<Tensor>& inputs,
                                     const DenseAttentionCallArgs& args) const {
  // Every check first: nothing is computed for a call that will fail.
  const std::vector<Shape> shapes = shapes_of(inputs);
  detail::check_dense_attention_shapes(error_source(), shapes);
  detail::check_dense_attention_masks(error_source(), shapes[0], shapes[1], args.query_mask,
                                      args.value_mask);
  // Keras builds a layer on its first call; build_once makes that safe from many threads.
  build_once([&] { const_cast<DenseAttention*>(this)->create_weights(shapes); });
  check_built_shapes(shapes);

  // Attention.call: k = inputs[2] if len(inputs) > 2 else v.
  const Tensor query = inputs[0].contiguous();
  const Tensor value = inputs[1].contiguous();
  const Tensor key = inputs.size() == 3 ? inputs[2].contiguous() : value;
  const kernels::reference::dense::Dims dims =
      detail::dense_attention_dims(query.shape(), key.shape(), value.shape());

  Shape scores_shape(query.shape().begin(), query.shape().end() - 1);
  scores_shape.push_back(dims.tv);
  Shape output_shape(query.shape().begin(), query.shape().end() - 1);
  output_shape.push_back(dims.value_dim);
  Tensor output(output_shape);
  std::optional<Tensor> scores;
  if (args.return_attention_scores) scores.emplace(scores_shape);

  std::optional<Mask> query_mask;
  std::optional<Mask> value_mask;
  if (args.query_mask) query_mask = args.query_mask->contiguous();
  if (args.value_mask) value_mask = args.value_mask->contiguous();

  detail::DenseAttentionRun run;
  run.dims = dims;
  run.score = score_function();
  run.query = query.data();
  run.key = key.data();
  run.value = value.data();
  run.query_mask = query_mask ? query_mask->data() : nullptr;
  run.value_mask = value_mask ? value_mask->data() : nullptr;
  run.use_causal_mask = args.use_causal_mask;
  // Attention._apply_scores: `if training and self.dropout > 0`; one key per such call.
  if (args.training && dropout_ > 0.0) {
    run.dropout_rate = dropout_;
    run.dropout_key = seed_generator_.next_key();
  }
  run.output = output.data();
  run.scores = scores ? scores->data() : nullptr;
  detail::run_dense_attention(class_name(), run);

  AttentionOutput result;
  result.output = std::move(output);
  result.attention_scores = std::move(scores);
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
