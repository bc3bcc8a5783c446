// keras.layers.MultiHeadAttention, exact to Keras 3.16: ProjectedAttention with N = K =
// num_heads heads, Hk = key_dim, Hv = value_dim, scale 1 / sqrt(key_dim) and output dims
// output_shape (the query's last dimension by default).
//
//   query (B, T, Dq), value (B, S, Dv), key (B, S, Dk) (value when absent)
//
// Inputs of rank > 3 (B, ..., D) attend over `attention_axes` (by default every axis but the
// batch and feature axes; several axes are normalised jointly); the other axes act as batch
// axes and the scores are (B, <other axes>, N, <query attention axes>, <key attention axes>).
//
// Masks (see projected_attention_call_args.hpp) are ANDed with the causal band and the
// sliding-window band |i - j| < sliding_window. What a query row with no allowed key gives
// depends on Keras's code path, and kattn picks the path by Keras's rule:
//   - dropout == 0, return_attention_scores false and rank-3 inputs: Keras's
//     ops.dot_product_attention path; the row is the uniform average of the projected values.
//   - otherwise (dropout > 0 even at inference, scores asked for, or rank > 3): Keras's einsum
//     + Softmax path; the row's probabilities are 0, its context is 0 and its output is the
//     output bias.
// Dropout acts on the probabilities only when training is true; the returned scores are the
// probabilities before dropout.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/projected_attention.hpp"

namespace kattn {

class MultiHeadAttention : public ProjectedAttention {
 public:
  // Keras's constructor arguments, with Keras's defaults. num_heads and key_dim are required:
  // their 0 defaults are refused with Keras's message.
  struct Args {
    int64_t num_heads = 0;                            // N > 0
    int64_t key_dim = 0;                              // query and key head size > 0
    std::optional<int64_t> value_dim = std::nullopt;  // value head size; null: key_dim
    double dropout = 0.0;                             // on the attention probabilities, in [0, 1)
    bool use_bias = true;
    // Trailing output dims; null: the query's last dimension. An int n is {n}.
    std::optional<Shape> output_shape = std::nullopt;
    // Input axes to attend over (negative counts from the end of the input's axes); null: all
    // axes but batch and features. An int a is {a}.
    std::optional<std::vector<int64_t>> attention_axes = std::nullopt;
    // Accepted as in Keras (it selects a backend kernel there); true refuses dropout > 0 and
    // returned scores with Keras's errors. Not serialised, as in Keras.
    std::optional<bool> flash_attention = std::nullopt;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    bool use_gate = false;                  // sigmoid gate on the heads
    std::optional<int64_t> sliding_window = std::nullopt;  // > 0: attend only |i - j| < w
    std::optional<int64_t> seed = std::nullopt;            // dropout seed
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // Validates the arguments (ValueError with Keras's wording).
  explicit MultiHeadAttention(Args args);
  // Keras's from_config: the keys of get_config() (plus `flash_attention`); unknown keys raise
  // ValueError.
  static std::unique_ptr<MultiHeadAttention> from_config(const Config& config);

  // Keras's compute_output_shape: the query shape with its last axis replaced by output_shape.
  Shape compute_output_shape(const Shape& query_shape, const Shape& value_shape,
                             std::optional<Shape> key_shape = std::nullopt) const override;

  int64_t num_heads() const { return num_heads_; }
  int64_t key_dim() const { return key_dim_; }
  int64_t value_dim() const { return value_dim_; }
  const std::optional<Shape>& output_shape() const { return output_shape_; }
  // As given before build (null for the default), normalised after.
  const std::optional<std::vector<int64_t>>& attention_axes() const { return attention_axes_; }

 protected:
  void build_weights(const Shape& query_shape, const Shape& value_shape,
                     const Shape& key_shape) override;
  void check_call_shapes(const Tensor& query, const Tensor& value,
                         const Tensor& key) const override;
  Heads heads() const override { return {num_heads_, num_heads_, key_dim_, value_dim_}; }
  std::vector<int64_t> attention_axes_built() const override { return *attention_axes_; }
  void own_config(Config& config) const override;

 private:
  int64_t num_heads_;
  int64_t key_dim_;
  int64_t value_dim_;
  std::optional<Shape> output_shape_;
  std::optional<std::vector<int64_t>> attention_axes_;

  // Fixed by build: input ranks and last dimensions.
  int64_t built_rank_ = 0;
  int64_t built_query_dim_ = 0;
  int64_t built_value_dim_ = 0;
  int64_t built_key_dim_ = 0;
};

}  // namespace kattn
