// keras.layers.Attention (Luong-style dot-product attention, or "concat" tanh scoring) and
// keras.layers.AdditiveAttention (Bahdanau-style), exact to Keras 3.16.
//
//   query (B, ..., Tq, D), value (B, ..., Tv, Dv), key (B, ..., Tv, D) (value when absent)
//   scores (B, ..., Tq, Tv):
//     Attention "dot":     scale * query . key^T              (scale only with use_scale)
//     Attention "concat":  concat_score_weight * sum_d tanh(scale * (q_d + k_d))
//     AdditiveAttention:   sum_d scale_d * tanh(q_d + k_d)     (scale only with use_scale)
//   masked scores get `score - 1e9` in float32 (value_mask, causal j <= i), softmax over Tv,
//   dropout on the distribution in training mode, output = probs @ value, then rows where
//   query_mask is false are zeroed (their returned scores are not).
// Leading axes before (Tq, D) all act as batch axes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/ops/dense_score.hpp"

namespace kattn {

namespace detail {
struct DenseAttentionCall;
}  // namespace detail

// Call arguments of Attention and AdditiveAttention (Keras's `mask=[query_mask, value_mask]`,
// `use_causal_mask`, `return_attention_scores`, `training`).
struct DenseAttentionCallArgs {
  // (B, ..., Tq): false rows of the output are zeroed.
  std::optional<Mask> query_mask = std::nullopt;
  // (B, ..., Tv): false keys are not attended.
  std::optional<Mask> value_mask = std::nullopt;
  // Key j is attended from query i only when j <= i.
  bool use_causal_mask = false;
  bool return_attention_scores = false;
  bool training = false;  // dropout on the attention distribution only when true
};

// The part Attention and AdditiveAttention share (Keras's AdditiveAttention subclasses
// Attention): masks, softmax, dropout, the output product, call validation.
class DenseAttention : public Layer {
 public:
  // Which score formula of the header a layer computes, with its weights.
  using ScoreFunction = ops::DenseScore;

  // `inputs` is [query, value] or [query, value, key]: anything else raises ValueError.
  AttentionOutput call(const std::vector<Tensor>& inputs,
                       const DenseAttentionCallArgs& args = {}) const;
  AttentionOutput call(const Tensor& query, const Tensor& value,
                       const DenseAttentionCallArgs& args = {}) const;
  AttentionOutput call(const Tensor& query, const Tensor& value, const Tensor& key,
                       const DenseAttentionCallArgs& args = {}) const;

  // A training call: call() that also keeps what backward() needs (the inputs, masks and the
  // dropout key drawn). `inputs` as for call().
  AttentionForward forward(const std::vector<Tensor>& inputs,
                           const DenseAttentionCallArgs& args = {}) const;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns the input gradients and adds each weight's gradient into
  // weight_gradients (zero_gradients(), weights() order). Masks are constants: a masked score
  // gets -1e9 added, which passes its gradient through unchanged (to a probability that is
  // usually exactly 0); query-masked rows pass nothing.
  AttentionInputGradients backward(const AttentionForward& forward, const Tensor& d_output,
                                   std::vector<Tensor>& weight_gradients) const;

  // Creates the weights for inputs of these shapes (done by the first call when not done).
  // `input_shapes` is [query, value] or [query, value, key].
  void build(const std::vector<Shape>& input_shapes);

  // Keras's compute_output_shape: the query shape with the value's last dimension.
  Shape compute_output_shape(const std::vector<Shape>& input_shapes) const;

  double dropout() const { return dropout_; }
  std::optional<int64_t> seed() const { return seed_generator_.seed(); }
  bool use_scale() const { return use_scale_; }

  Config get_config() const override;

  // The graph node (dense_attention_node.cpp): call(inputs=[query, value, key],
  // mask=[query_mask, value_mask], training, return_attention_scores, use_causal_mask). An
  // explicit mask wins over the inputs' Keras masks; the output carries the query mask, the
  // scores none; a gradient reaching the scores is refused.
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

 protected:
  DenseAttention(std::string class_name, LayerArgs args, bool use_scale, double dropout,
                 std::optional<int64_t> seed);
  // Creates this layer's weights for the validated input shapes.
  virtual void create_weights(const std::vector<Shape>& input_shapes) = 0;
  // Checks that inputs of these (validated) shapes fit the weights the layer was built with;
  // runs before any arithmetic of a call.
  virtual void check_built_shapes(const std::vector<Shape>& input_shapes) const;
  // Keras's _calculate_scores, as the kernels take it: the formula of the class header, and
  // this layer's weights in it.
  virtual ScoreFunction score_function() const = 0;

 private:
  // Validates a call, builds on the first one, and lays out the kernels' arguments.
  std::shared_ptr<detail::DenseAttentionCall> prepare(const std::vector<Tensor>& inputs,
                                                      const DenseAttentionCallArgs& args) const;
  // Runs a prepared call.
  AttentionOutput run(detail::DenseAttentionCall& call, bool return_attention_scores) const;

  bool use_scale_;
  double dropout_;
  SeedGenerator seed_generator_;
};

class Attention : public DenseAttention {
 public:
  struct Args {
    bool use_scale = false;
    std::string score_mode = "dot";  // "dot" or "concat"
    double dropout = 0.0;            // in [0, 1)
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // (Two constructors rather than `Args args = {}`: a nested struct's default member
  // initialisers cannot serve as a default argument inside the enclosing class.)
  Attention();
  explicit Attention(Args args);
  // Keras's from_config: the keys of get_config(); unknown keys raise ValueError.
  static std::unique_ptr<Attention> from_config(const Config& config);

  const std::string& score_mode() const { return score_mode_; }
  Config get_config() const override;

 protected:
  void create_weights(const std::vector<Shape>& input_shapes) override;
  ScoreFunction score_function() const override;

 private:
  std::string score_mode_;
};

class AdditiveAttention : public DenseAttention {
 public:
  struct Args {
    bool use_scale = true;
    double dropout = 0.0;  // in [0, 1)
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  AdditiveAttention();
  explicit AdditiveAttention(Args args);
  static std::unique_ptr<AdditiveAttention> from_config(const Config& config);

 protected:
  void create_weights(const std::vector<Shape>& input_shapes) override;
  void check_built_shapes(const std::vector<Shape>& input_shapes) const override;
  ScoreFunction score_function() const override;
};

}  // namespace kattn
