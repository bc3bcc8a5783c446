// keras.layers.GroupQueryAttention (Python class GroupedQueryAttention), exact to Keras 3.16.
//
//   query (B, T, D), value (B, S, D), key (B, S, Dk) (value when absent)
//   q = query @ query/kernel + query/bias                  (B, T, N, H)  N = num_query_heads
//   k = key @ key/kernel + key/bias                        (B, S, K, H)  K = num_key_value_heads
//   v = value @ value/kernel + value/bias                  (B, S, K, H)
//   query head u reads key/value head u / (N / K) (Keras repeats each key/value head N / K
//   times consecutively; here by index, without copying)
//   probs = softmax over S of (q . k) / sqrt(head_dim), masked   (B, N, T, S)
//   heads = probs @ v                                      (B, T, N, H)
//   heads *= sigmoid(query @ gate/kernel + gate/bias)      (only with use_gate)
//   output = heads @ attention_output/kernel + bias        (B, T, D)
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

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/layers/projected_attention_call_args.hpp"

namespace kattn {

namespace detail {
struct PreparedAttention;
}  // namespace detail

class GroupedQueryAttention : public Layer {
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
    Initializer kernel_initializer = Initializer::glorot_uniform();
    Initializer bias_initializer = Initializer::zeros();
    // Keras configs (null, a name or a serialized object), kept and serialised verbatim; they
    // are not applied by the forward pass.
    Config kernel_regularizer = nullptr;
    Config bias_regularizer = nullptr;
    Config activity_regularizer = nullptr;
    Config kernel_constraint = nullptr;
    Config bias_constraint = nullptr;
    std::optional<int64_t> seed = std::nullopt;  // dropout seed
    std::string name = "grouped_query_attention";
    bool trainable = true;
  };
  using CallArgs = ProjectedAttentionCallArgs;

  // Validates the arguments (ValueError with Keras's wording).
  explicit GroupedQueryAttention(Args args);
  // Keras's from_config: the keys of get_config() (plus `flash_attention`); unknown keys raise
  // ValueError.
  static std::unique_ptr<GroupedQueryAttention> from_config(const Config& config);

  // Creates the weights for inputs of these shapes, in Keras's order: query/kernel, query/bias,
  // key/kernel, key/bias, [gate/kernel, gate/bias], value/kernel, value/bias,
  // attention_output/kernel, attention_output/bias (no biases without use_bias). Dimensions
  // other than the last may be -1 (Keras's None). Done by the first call when not done; a
  // no-op once built.
  void build(const Shape& query_shape, const Shape& value_shape,
             std::optional<Shape> key_shape = std::nullopt);

  // Returns the output (B, T, D) and, when asked, the attention scores (B, N, T, S). Const and
  // safe to call from several threads at once (the first call builds under a lock).
  AttentionOutput call(const Tensor& query, const Tensor& value, const CallArgs& args = {}) const;

  // A training call: call() that also keeps what backward() needs (the projections, the
  // dropout key, the attention's output). Same validation and result as call().
  AttentionForward forward(const Tensor& query, const Tensor& value,
                           const CallArgs& args = {}) const;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns the input gradients and adds each weight's gradient into
  // weight_gradients (zero_gradients(), weights() order). Masks are constants; see
  // ops::scaled_dot_product_attention_backward for masked and fully masked rows.
  AttentionInputGradients backward(const AttentionForward& forward, const Tensor& d_output,
                                   std::vector<Tensor>& weight_gradients) const;

  // Keras's compute_output_shape: the query shape (after Keras's checks).
  Shape compute_output_shape(const Shape& query_shape, const Shape& value_shape,
                             std::optional<Shape> key_shape = std::nullopt) const;

  int64_t head_dim() const { return head_dim_; }
  int64_t num_query_heads() const { return num_query_heads_; }
  int64_t num_key_value_heads() const { return num_key_value_heads_; }
  double dropout() const { return dropout_; }
  bool use_bias() const { return use_bias_; }
  bool use_gate() const { return use_gate_; }
  std::optional<int64_t> sliding_window() const { return sliding_window_; }
  std::optional<int64_t> seed() const { return seed_generator_.seed(); }

  Config get_config() const override;

 private:
  void check_shapes(const Shape& query_shape, const Shape& value_shape,
                    const Shape& key_shape) const;
  void build_weights(const Shape& query_shape, const Shape& value_shape, const Shape& key_shape);
  // Validates a call's inputs, builds the layer on its first call, and lays out the settings
  // and weights the projected attention runs with.
  detail::PreparedAttention prepare(const Tensor& query, const Tensor& value,
                                    const CallArgs& args) const;

  int64_t head_dim_;
  int64_t num_query_heads_;
  int64_t num_key_value_heads_;
  double dropout_;
  bool use_bias_;
  bool use_gate_;
  std::optional<int64_t> sliding_window_;
  bool flash_attention_;
  Initializer kernel_initializer_;
  Initializer bias_initializer_;
  Config kernel_regularizer_;
  Config bias_regularizer_;
  Config activity_regularizer_;
  Config kernel_constraint_;
  Config bias_constraint_;
  SeedGenerator seed_generator_;

  // Fixed by build: the inputs' last dimensions.
  int64_t built_query_dim_ = 0;
  int64_t built_value_dim_ = 0;
  int64_t built_key_dim_ = 0;
};

}  // namespace kattn
