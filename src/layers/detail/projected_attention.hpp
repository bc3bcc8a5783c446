// The call shared by MultiHeadAttention and GroupedQueryAttention once their inputs are
// validated: project query, key and value into heads, combine the masks, attend, gate, project
// back. Keras's MultiHeadAttention.call / _compute_attention and
// GroupedQueryAttention.call / _compute_attention.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/layers/kv_cache.hpp"
#include "kattn/layers/projected_attention_call_args.hpp"
#include "kattn/ops/sdpa.hpp"
#include "ops/einsum_dense.hpp"

namespace kattn::detail {

// The projection kernels packed for the active instruction set (ops::pack_kernel), made once
// per set of weights (Layer::derived_from_weights); each null when projections run on
// OpenBLAS (the gate also when the layer has none).
struct PackedProjections {
  std::shared_ptr<const ops::PackedKernel> query, key, value, gate, output;
};

// The weights of a built layer, or their gradient buffers (Tensor = const Tensor or Tensor);
// biases (and the gate) are null when the layer has none.
template <typename T>
struct ProjectedTensors {
  T* query_kernel = nullptr;   // (Dq, N, H)
  T* query_bias = nullptr;     // (N, H)
  T* key_kernel = nullptr;     // (Dk, K, H)
  T* key_bias = nullptr;       // (K, H)
  T* gate_kernel = nullptr;    // (Dq, N, Hv)
  T* gate_bias = nullptr;      // (N, Hv)
  T* value_kernel = nullptr;   // (Dv, K, Hv)
  T* value_bias = nullptr;     // (K, Hv)
  T* output_kernel = nullptr;  // (N, Hv, *O)
  T* output_bias = nullptr;    // (*O)
};

struct ProjectedAttentionWeights : ProjectedTensors<const Tensor> {
  const PackedProjections* packed = nullptr;  // null: OpenBLAS on the kernels above
};
using ProjectedAttentionGradients = ProjectedTensors<Tensor>;

// The tensors of `weights` (a built MultiHeadAttention's or GroupedQueryAttention's, in
// weights() order) or of their gradient buffers `gradients`, by Keras weight name.
ProjectedAttentionWeights projected_weights(const std::vector<Variable>& weights);
ProjectedAttentionGradients projected_gradients(const std::vector<Variable>& weights,
                                                std::vector<Tensor>& gradients);

// Packs every kernel of `weights` (the layers keep the result in derived_from_weights).
std::shared_ptr<const PackedProjections> pack_projections(const ProjectedAttentionWeights& weights);

struct ProjectedAttentionSettings {
  int64_t num_heads = 1;     // N, query heads
  int64_t num_kv_heads = 1;  // K, key/value heads; N % K == 0
  double scale = 1.0;        // 1 / sqrt(key_dim or head_dim)
  double dropout = 0.0;
  int64_t sliding_window = 0;  // 0: none
  // Normalised input axes attention runs over ({1} for rank-3 inputs).
  std::vector<int64_t> attention_axes{1};
};

// A validated call of a built layer: what projected_attention_call / _forward run with.
struct PreparedAttention {
  ProjectedAttentionSettings settings;
  ProjectedAttentionWeights weights;
  std::shared_ptr<const PackedProjections> packed;  // keeps weights.packed alive
  const Tensor* key = nullptr;                      // the call's key, or its value
};

// Runs the layer on validated inputs (ranks, feature sizes and batch axes agree with the
// weights). Masks are validated here, before any arithmetic. `key` is the value when the
// caller passed none. A dropout key is drawn from `seeds` only when dropout applies.
//
// Keras's code path decides what a fully masked row gives: ops.dot_product_attention
// (uniform average of the values) when dropout is 0, no scores are asked for and the inputs
// have rank 3; the einsum + Softmax path (zero context, output = output bias) otherwise.
AttentionOutput projected_attention_call(ErrorSource source,
                                         const ProjectedAttentionSettings& settings,
                                         const ProjectedAttentionWeights& weights,
                                         const Tensor& query, const Tensor& value,
                                         const Tensor& key, const ProjectedAttentionCallArgs& args,
                                         const SeedGenerator& seeds);

// Incremental decoding on validated rank-3 inputs (attention over axis 1). cache_projections
// appends the key and value projections of key and value (B, T', D) to `cache`;
// projected_attention_cached attends query (B, T, Dq), whose row t stands at position
// query_offset + t, to the filled positions (causally with use_causal_mask; the sliding window
// as in a call) and projects the result. No dropout, no scores.
void cache_projections(const ProjectedAttentionWeights& weights, const Tensor& value,
                       const Tensor& key, KVCache& cache);
Tensor projected_attention_cached(const ProjectedAttentionSettings& settings,
                                  const ProjectedAttentionWeights& weights, const Tensor& query,
                                  const KVCache& cache, int64_t query_offset, bool use_causal_mask);

// The same call for `layer`, keeping what projected_attention_backward needs.
AttentionForward projected_attention_forward(
    const Layer& layer, ErrorSource source, const ProjectedAttentionSettings& settings,
    const ProjectedAttentionWeights& weights, const Tensor& query, const Tensor& value,
    const Tensor& key, const ProjectedAttentionCallArgs& args, const SeedGenerator& seeds);

// Backpropagates d_output (the output's shape) through the call that gave `forward`: returns
// the query, value and key gradients (key only when the call passed one) and
// adds every weight's gradient into `gradients`. ValueError when d_output's shape is wrong or
// `forward` came from another layer than `layer`.
AttentionInputGradients projected_attention_backward(const Layer& layer, ErrorSource source,
                                                     const ProjectedAttentionWeights& weights,
                                                     const AttentionForward& forward,
                                                     const Tensor& d_output,
                                                     const ProjectedAttentionGradients& gradients);

}  // namespace kattn::detail
