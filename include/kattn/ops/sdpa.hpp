// Scaled dot-product attention with no weights: the op MultiHeadAttention and
// GroupedQueryAttention run between their projections, callable directly by users who bring
// their own projections.
//
//   query (B, T, N, H), key (B, S, K, H), value (B, S, K, Hv), with N a multiple of K
//   query head n reads key/value head n / (N / K) (grouped-query attention; K == N is plain
//   multi-head attention, K == 1 multi-query attention)
//
//   logits[b, n, i, j] = scale * sum_h query[b, i, n, h] * key[b, j, n / (N / K), h]
//   allowed[b, n, i, j] = mask[b, n, i, j]                      (broadcast, when given)
//                         and (j <= p)                          (when is_causal)
//                         and (|p - j| < sliding_window)        (when sliding_window > 0)
//   with p = query_offset + i, the query's key position
//   probs[b, n, i, :]   = softmax over j of the logits, masked as `fully_masked_rows` says
//   output[b, i, n, :]  = sum_j dropout(probs[b, n, i, j]) * value[b, j, n / (N / K), :]
//
// Returns output (B, T, N, Hv) and, when asked, the probabilities (B, N, T, S) before dropout
// (what Keras returns as attention scores) and each row's log-sum-exp (B, N, T), what the fused
// backward recomputes the probabilities from. Inputs may be strided views; outputs are
// contiguous.
// Templated on float (what the layers use) and double (a higher-precision reference). Float runs
// the fused kernel of the active instruction set (kernels/dispatch.hpp: KATTN_ISA,
// KATTN_VERBOSE), which never materialises the (T, S) logits unless scores are asked for; double
// and KATTN_ISA=reference run the reference kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "kattn/core/fully_masked_rows.hpp"
#include "kattn/core/half.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::ops {

// What a fully masked row evaluates to (kattn/core/fully_masked_rows.hpp).
using FullyMaskedRows = kattn::FullyMaskedRows;

struct SdpaOptions {
  // Multiplies the query-key dot products; Keras uses 1 / sqrt(head dim).
  double scale = 1.0;
  // Rank 4, (B, N, T, S) with any axis of length 1 broadcast; true = may be attended.
  std::optional<Mask> mask = std::nullopt;
  // (B, T): query i of batch b attends nothing when false, its row fully masked (what it gives
  // is fully_masked_rows's rule). The same as a (B, 1, T, 1) part of `mask`, without the
  // (B, N, T, S) mask that ANDing it with a key padding mask would build.
  std::optional<Mask> query_mask = std::nullopt;
  // Key j is attended from query i only when j <= i (top-left aligned, also when T != S).
  bool is_causal = false;
  // When > 0, key j is attended from query i only when |i - j| < sliding_window.
  int64_t sliding_window = 0;
  // Query i stands at key position query_offset + i for is_causal and sliding_window: the
  // queries of an incremental-decoding step, after query_offset cached keys.
  int64_t query_offset = 0;
  FullyMaskedRows fully_masked_rows = FullyMaskedRows::kUniform;
  // Dropout on the probabilities, applied when > 0: element (b, n, i, j) is kept when
  // dropout_keeps(dropout_key, ((b * N + n) * T + i) * S + j, dropout_rate) and kept values are
  // scaled by 1 / (1 - dropout_rate). Callers pass 0 at inference.
  double dropout_rate = 0.0;
  uint64_t dropout_key = 0;
  // Also return the probabilities (B, N, T, S), before dropout.
  bool return_scores = false;
  // Also return logsumexp[b, n, i] = log sum_j exp(logits[b, n, i, j]) over the keys row i may
  // attend (B, N, T), for the backward; the output is the same with and without it. A row that
  // may attend no key holds -inf from the fused kernels, and the log-sum-exp of the substituted
  // logits from the reference kernel (double, KATTN_ISA=reference): a large negative number.
  bool return_logsumexp = false;
  // Threads to run on; 0 uses kattn::num_threads() (kattn/core/context.hpp). The result is the same
  // for every count.
  int64_t num_threads = 0;
};

template <typename Real>
struct SdpaResult {
  BasicTensor<Real> output;                    // (B, T, N, Hv)
  std::optional<BasicTensor<Real>> scores;     // (B, N, T, S), only when asked for
  std::optional<BasicTensor<Real>> logsumexp;  // (B, N, T), only when asked for
};

// Validates every shape and option (ValueError naming the argument) before any arithmetic.
template <typename Real>
SdpaResult<Real> scaled_dot_product_attention(const BasicTensor<Real>& query,
                                              const BasicTensor<Real>& key,
                                              const BasicTensor<Real>& value,
                                              const SdpaOptions& options = {});

// Keys or values stored as 16-bit floats, as a half-precision KVCache keeps them
// (kattn/layers/kv_cache.hpp): shape (B, S, K, H), element [b, s, k, h] at
// data[b * strides[0] + s * strides[1] + k * strides[2] + h * strides[3]].
struct HalfSequence {
  const uint16_t* data = nullptr;
  Shape shape;
  std::array<int64_t, 4> strides{};
  HalfFormat format = HalfFormat::kFloat16;

  // The elements as float32 (exact), contiguous.
  Tensor to_float() const;
};

// The float op on keys and values converted from 16-bit floats, validated as it is. Decoding
// steps (T <= 4 queries, without scores or query_mask) on the fused kernels read the 16-bit
// elements as they are, half the memory traffic of float32; every other call converts them to
// float32 first. `key` and `value` must have the same format.
SdpaResult<float> scaled_dot_product_attention(const Tensor& query, const HalfSequence& key,
                                               const HalfSequence& value,
                                               const SdpaOptions& options = {});

// The gradients of sum(output * d_output) with respect to the three inputs of a forward call.
template <typename Real>
struct SdpaGradients {
  BasicTensor<Real> query;  // (B, T, N, H)
  BasicTensor<Real> key;    // (B, S, K, H): each key/value head sums over its query heads
  BasicTensor<Real> value;  // (B, S, K, Hv)
};

// Backpropagates `d_output` (B, T, N, Hv) through the forward call that gave `forward` with the
// same inputs and options (the same dropout_key drops the same elements). Masks are constants;
// a masked logit passes no gradient on, and a fully masked row passes only its value gradient
// (1 / S of its d_output to every value under kUniform, nothing under kZero). return_scores and
// return_logsumexp are ignored. Validates as the forward does.
//
// Float runs the fused backward of the active instruction set (FlashAttention-2's: the (T, S)
// probabilities are recomputed tile by tile, never stored), which reads forward.output and
// forward.logsumexp; when the forward was called without return_logsumexp, it runs the forward
// again for the log-sum-exp first. Double and KATTN_ISA=reference run the reference backward.
// The result is the same for every thread count.
template <typename Real>
SdpaGradients<Real> scaled_dot_product_attention_backward(const BasicTensor<Real>& query,
                                                          const BasicTensor<Real>& key,
                                                          const BasicTensor<Real>& value,
                                                          const SdpaResult<Real>& forward,
                                                          const BasicTensor<Real>& d_output,
                                                          const SdpaOptions& options = {});

extern template SdpaResult<float> scaled_dot_product_attention<float>(const Tensor&, const Tensor&,
                                                                      const Tensor&,
                                                                      const SdpaOptions&);
extern template SdpaResult<double> scaled_dot_product_attention<double>(const TensorF64&,
                                                                        const TensorF64&,
                                                                        const TensorF64&,
                                                                        const SdpaOptions&);

extern template SdpaGradients<float> scaled_dot_product_attention_backward<float>(
    const Tensor&, const Tensor&, const Tensor&, const SdpaResult<float>&, const Tensor&,
    const SdpaOptions&);
extern template SdpaGradients<double> scaled_dot_product_attention_backward<double>(
    const TensorF64&, const TensorF64&, const TensorF64&, const SdpaResult<double>&,
    const TensorF64&, const SdpaOptions&);

}  // namespace kattn::ops
