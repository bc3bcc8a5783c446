// The call shared by MultiHeadAttention and GroupedQueryAttention once their inputs are
// validated: project query, key and value into heads, combine the masks, attend, gate, project
// back. Keras's MultiHeadAttention.call / _compute_attention and
// GroupedQueryAttention.call / _compute_attention.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kattn/error.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/layers/projected_attention_call_args.hpp"
#include "kattn/random.hpp"
#include "kattn/tensor.hpp"
#include "kernels/gemm/packed_gemm.hpp"

namespace kattn::detail {

// The projection kernels packed for the AVX2 kernels (kernels/gemm/packed_gemm.hpp),
// as (input features, outputs) matrices; made once per set of weights (Layer::
// derived_from_weights). The gate is empty when the layer has none.
struct PackedProjections {
  kernels::PackedMatrix query, key, value;
  std::optional<kernels::PackedMatrix> gate;
  kernels::PackedMatrix output;
};

// The weights of a built layer; biases (and the gate) are null when the layer has none.
struct ProjectedAttentionWeights {
  const Tensor* query_kernel = nullptr;       // (Dq, N, H)
  const Tensor* query_bias = nullptr;         // (N, H)
  const Tensor* key_kernel = nullptr;         // (Dk, K, H)
  const Tensor* key_bias = nullptr;           // (K, H)
  const Tensor* gate_kernel = nullptr;        // (Dq, N, Hv)
  const Tensor* gate_bias = nullptr;          // (N, Hv)
  const Tensor* value_kernel = nullptr;       // (Dv, K, Hv)
  const Tensor* value_bias = nullptr;         // (K, Hv)
  const Tensor* output_kernel = nullptr;      // (N, Hv, *O)
  const Tensor* output_bias = nullptr;        // (*O)
  const PackedProjections* packed = nullptr;  // null: OpenBLAS on the kernels above
};

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

}  // namespace kattn::detail
