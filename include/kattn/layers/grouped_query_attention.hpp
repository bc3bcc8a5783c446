// keras.layers.GroupQueryAttention (Python class GroupedQueryAttention), exact to Keras 3.16:
// ProjectedAttention with N = num_query_heads, K = num_key_value_heads, Hk = Hv = head_dim,
// scale 1 / sqrt(head_dim) and output dims (D,). Keras repeats each key/value head N / K times
// consecutively; here query head u reads key/value head u / (N / K), without copying.
//
//   query (B, T, D), value (B, S, D), key (B, S, Dk) (value when absent)
//
// Inputs have rank 3 and query and value share their last dimension (Keras rejects others).
// Masks (see projected_attention_call_args.hpp; query_mask is honoured) are ANDed with the
// causal band and the sliding-window band |i - j| < sliding_window. What a query row with no
// allowed key gives depends on Keras's code path, picked by Keras's rule:
//   - dropout == 0 and return_attention_scores false: Keras's ops.dot_product_attention path;
//     the row is the uniform average of the projected values.
//   - otherwise (dropout > 0 even at inference, or scores asked for): Keras's einsum + Softmax
//     path; the row's probabilities are 0 and its output is the output bias.
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

class GroupedQueryAttention : public ProjectedAttention {
 public:
  // Keras's constructor arguments, with Keras's defaults. The three sizes are required: their 0
  // defaults are refused with Keras's message.
  struct Args {
    int64_t head_dim = 0;             // H > 0
    int64_t num_query_heads = 0;      // N > 0
    int64_t num_key_value_heads = 0;  // K > 0, N % K == 0
    double dropout = 0.0;             // on the attention probabilities, in [0, 1)
    bool use_bias = true;
    bool use_gate = false;                                 // sigmoid gate on the heads
    std::optional<int64_t> sliding_window = std::nullopt;  // > 0: attend only |i - j| < w
    // Accepted as in Keras; true refuses dropout > 0 and returned scores with Keras's errors.
    // Not serialised, as in Keras.
    std::optional<bool> flash_attention = std::nullopt;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;       // a Keras config; Model::fit penalises the outputs
    std::optional<int64_t> seed = std::nullopt;  // dropout seed
    std::string name = "";                       // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // Validates the arguments (ValueError with Keras's wording).
  explicit GroupedQueryAttention(Args args);
  // Keras's from_config: the keys of get_config() (plus `flash_attention`); unknown keys raise
  // ValueError.
  static std::unique_ptr<GroupedQueryAttention> from_config(const Config& config);

  // Keras's compute_output_shape: the query shape (after Keras's checks).
  Shape compute_output_shape(const Shape& query_shape, const Shape& value_shape,
                             std::optional<Shape> key_shape = std::nullopt) const override;

  int64_t head_dim() const { return head_dim_; }
  int64_t num_query_heads() const { return num_query_heads_; }
  int64_t num_key_value_heads() const { return num_key_value_heads_; }

 protected:
  void build_weights(const Shape& query_shape, const Shape& value_shape,
                     const Shape& key_shape) override;
  void check_call_shapes(const Tensor& query, const Tensor& value,
                         const Tensor& key) const override;
  Heads heads() const override {
    return {num_query_heads_, num_key_value_heads_, head_dim_, head_dim_};
  }
  std::vector<int64_t> attention_axes_built() const override { return {1}; }
  void own_config(Config& config) const override;

 private:
  // Keras's checks of the input shapes (rank 3, equal query and value features, ...).
  void check_shapes(const Shape& query_shape, const Shape& value_shape,
                    const Shape& key_shape) const;

  int64_t head_dim_;
  int64_t num_query_heads_;
  int64_t num_key_value_heads_;

  // Fixed by build: the inputs' last dimensions.
  int64_t built_query_dim_ = 0;
  int64_t built_value_dim_ = 0;
  int64_t built_key_dim_ = 0;
};

}  // namespace kattn
