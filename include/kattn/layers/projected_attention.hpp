// What MultiHeadAttention and GroupQueryAttention share (Keras's GroupedQueryAttention is a
// copy of MultiHeadAttention with grouped key/value heads): the shared constructor arguments,
// the weights (query, key, [gate,] value and output projections), the call, its training pair,
// get_config's shared keys and the graph node. A subclass gives its sizes, its shape checks and
// its own config keys.
//
//   q = query @ query/kernel + query/bias                  (B, T, N, Hk)
//   k = key @ key/kernel + key/bias                        (B, S, K, Hk)
//   v = value @ value/kernel + value/bias                  (B, S, K, Hv)
//   query head u reads key/value head u / (N / K)
//   probs = softmax over S of (q . k) * scale, masked      (B, N, T, S)
//   heads = probs @ v                                      (B, T, N, Hv)
//   heads *= sigmoid(query @ gate/kernel + gate/bias)      (only with use_gate)
//   output = heads @ attention_output/kernel + bias        (B, T, *O)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/layers/kv_cache.hpp"
#include "kattn/layers/projected_attention_call_args.hpp"

namespace kattn {

namespace detail {
struct PreparedAttention;
struct ProjectedAttentionSettings;
}  // namespace detail

class ProjectedAttention : public Layer {
 public:
  using CallArgs = ProjectedAttentionCallArgs;

  // Creates the weights for inputs of these shapes, in Keras's order: query/kernel, query/bias,
  // key/kernel, key/bias, [gate/kernel, gate/bias], value/kernel, value/bias,
  // attention_output/kernel, attention_output/bias (no biases without use_bias). Dimensions
  // other than the ones the subclass names may be -1 (Keras's None). Done by the first call
  // when not done; a no-op once built.
  void build(const Shape& query_shape, const Shape& value_shape,
             std::optional<Shape> key_shape = std::nullopt);

  // Returns the output and, when asked, the attention scores. Const and safe to call from
  // several threads at once (the first call builds under a lock).
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

  // Incremental decoding, keras-hub's CachedMultiHeadAttention with cache_update_index =
  // cache.length(): projects value (B, T', Dv) and args.key (else the value) into the next T'
  // positions of `cache`, then attends query (B, T, Dq) to every filled position and projects
  // the result: (B, T, *O). With use_causal_mask, query row t stands at position length + t and
  // attends the positions up to its own, so stepping through a sequence one position (or chunk)
  // at a time gives the rows of one causal call() on the whole sequence. Rank-3 inputs only;
  // inference (no dropout, no scores, no masks but the causal one).
  Tensor call_cached(const Tensor& query, const Tensor& value, KVCache& cache,
                     const CachedCallArgs& args = {}) const;
  // Attends query (B, T, Dq) to what `cache` holds without adding to it, as call() of the query
  // on the cached sequence (no causal mask; row t at position t for a sliding window):
  // keras-hub's cache_update_index=None, for cross-attention over encoder outputs cached once.
  // The layer must be built.
  Tensor call_cached(const Tensor& query, const KVCache& cache) const;
  // An empty cache for this layer (built): `batch` sequences of up to max_length positions,
  // stored as `dtype` (kattn/layers/kv_cache.hpp).
  KVCache make_cache(int64_t batch, int64_t max_length,
                     CacheDtype dtype = CacheDtype::kFloat32) const;

  // Keras's compute_output_shape (after Keras's checks).
  virtual Shape compute_output_shape(const Shape& query_shape, const Shape& value_shape,
                                     std::optional<Shape> key_shape = std::nullopt) const = 0;

  double dropout() const { return dropout_; }
  bool use_bias() const { return use_bias_; }
  bool use_gate() const { return use_gate_; }
  std::optional<int64_t> sliding_window() const { return sliding_window_; }
  std::optional<int64_t> seed() const { return seed_generator_.seed(); }

  // The base keys, the shared arguments', then the subclass's (own_config).
  Config get_config() const override;

  // The graph node: call(query, value, key, query_mask, value_mask, key_mask, attention_mask,
  // return_attention_scores, training, use_causal_mask); masks by Keras's rules of each class
  // (docs/semantics.md); a gradient reaching the scores is refused.
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;
  // Keras's sub-layers: query_dense, ... (MultiHeadAttention) or _query_dense, ...
  // (GroupQueryAttention), each with vars/0 = kernel and vars/1 = bias, plus the weightless
  // _softmax and _dropout_layer, which Keras names by process-wide counters ("softmax",
  // "softmax_1", ...); a loaded model keeps the names its file has.
  WeightLayout weight_layout() const override;
  void adopt_group_names(const std::map<std::string, std::string>& names) override;

 protected:
  // Where the two classes differ besides their sizes.
  enum class Variant {
    // MultiHeadAttention: reads the query mask from the query tensor only (an explicit
    // query_mask is ignored), clears the inputs' Keras masks, names sub-layers query_dense.
    kMultiHead,
    // GroupQueryAttention: takes the query_mask keyword first, keeps the inputs' masks, names
    // sub-layers _query_dense.
    kGroupedQuery,
  };

  // The constructor arguments both classes have, Keras's names and defaults.
  struct SharedArgs {
    double dropout = 0.0;
    bool use_bias = true;
    bool use_gate = false;
    std::optional<int64_t> sliding_window = std::nullopt;
    std::optional<bool> flash_attention = std::nullopt;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    std::optional<int64_t> seed = std::nullopt;

    // The shared fields of either class's Args.
    template <typename Args>
    static SharedArgs of(Args& args) {
      return {args.dropout,
              args.use_bias,
              args.use_gate,
              args.sliding_window,
              args.flash_attention,
              std::move(args.kernel),
              std::move(args.bias),
              std::move(args.activity_regularizer),
              args.seed};
    }
  };

  // The sizes of the projections: N query heads, K key/value heads, head sizes.
  struct Heads {
    int64_t query_heads = 0;      // N
    int64_t key_value_heads = 0;  // K, N % K == 0
    int64_t key_dim = 0;          // Hk: query and key head size
    int64_t value_dim = 0;        // Hv
  };

  // The subclass validates the arguments (in Keras's order of checks).
  ProjectedAttention(std::string class_name, LayerArgs args, Variant variant, SharedArgs shared);

  // Checks the build shapes and creates the weights (add_projections); may fix settings the
  // build decides (MultiHeadAttention's attention axes).
  virtual void build_weights(const Shape& query_shape, const Shape& value_shape,
                             const Shape& key_shape) = 0;
  // Checks a call's inputs against the built weights, before any arithmetic.
  virtual void check_call_shapes(const Tensor& query, const Tensor& value,
                                 const Tensor& key) const = 0;
  virtual Heads heads() const = 0;
  // The input axes attention runs over, normalised ({1} for rank-3 inputs); after build.
  virtual std::vector<int64_t> attention_axes_built() const = 0;
  // The subclass's get_config keys.
  virtual void own_config(Config& config) const = 0;

  // Creates the weights of Keras's order for features (Dq, Dk, Dv) and output dims *O.
  void add_projections(int64_t query_features, int64_t key_features, int64_t value_features,
                       const Shape& output_dims);

 private:
  detail::PreparedAttention prepare(const Tensor& query, const Tensor& value,
                                    const CallArgs& args) const;
  // ValueError naming `what` unless the layer is built.
  void check_built(const std::string& what) const;
  // The settings and weights of the built layer (no key).
  detail::PreparedAttention prepared_weights() const;
  // NotSupportedError unless query is rank 3; ValueError unless `cache` has the query's batch
  // and this layer's key/value heads.
  void check_cached_call(const Tensor& query, const KVCache& cache) const;
  CallArgs node_call_args(const ValueArguments& arguments, const RunContext& context) const;
  std::vector<ValuePtr> node_outputs(const ValueArguments& arguments, const AttentionOutput& result,
                                     const CallArgs& args) const;
  // (B, <other axes>, N, <query attention axes>, <key attention axes>).
  Shape scores_shape(const Shape& query, const Shape& key) const;

  Variant variant_;
  double dropout_;
  bool use_bias_;
  bool use_gate_;
  std::optional<int64_t> sliding_window_;
  bool flash_attention_;
  WeightArgs kernel_;
  WeightArgs bias_;
  Config activity_regularizer_;
  SeedGenerator seed_generator_;
  std::string softmax_name_;
  std::string dropout_name_;
};

}  // namespace kattn
