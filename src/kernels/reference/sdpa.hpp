// The reference scaled dot-product attention kernel: plain loops, one query row at a time,
// materialising each row of logits. It is the specification the fast kernels are checked
// against, so it favours being obviously right over being fast.
#pragma once

#include <cstdint>

#include "kattn/core/fully_masked_rows.hpp"
#include "kattn/core/half.hpp"

namespace kattn::kernels {

// Pointers and element strides of one attention problem; sizes use the shape letters of
// kattn/ops/sdpa.hpp. Built and validated by ops::scaled_dot_product_attention.
template <typename Real>
struct SdpaParams {
  int64_t batch = 0;         // B
  int64_t query_len = 0;     // T
  int64_t key_len = 0;       // S
  int64_t num_heads = 0;     // N (query heads)
  int64_t num_kv_heads = 0;  // K (key/value heads), N % K == 0
  int64_t head_dim = 0;      // H (query and key)
  int64_t value_dim = 0;     // Hv

  const Real* query = nullptr;  // (B, T, N, H)
  int64_t query_strides[4] = {};
  const Real* key = nullptr;  // (B, S, K, H)
  int64_t key_strides[4] = {};
  const Real* value = nullptr;  // (B, S, K, Hv)
  int64_t value_strides[4] = {};
  // Set instead of key and value for a half-precision cache (float only; the decode kernel and
  // sdpa_fully_masked_row read them, nothing else): 16-bit floats with the strides above.
  const uint16_t* key_half = nullptr;
  const uint16_t* value_half = nullptr;
  HalfFormat half_format = HalfFormat::kFloat16;
  // (B, N, T, S), stride 0 on broadcast axes; null when there is no mask.
  const bool* mask = nullptr;
  int64_t mask_strides[4] = {};

  Real scale = 1;
  bool is_causal = false;
  int64_t sliding_window = 0;  // 0: none
  // Query i stands at key position query_offset + i for is_causal and sliding_window (queries
  // appended after query_offset cached keys).
  int64_t query_offset = 0;
  FullyMaskedRows fully_masked_rows = FullyMaskedRows::kUniform;
  double dropout_rate = 0.0;  // 0: no dropout
  uint64_t dropout_key = 0;

  Real* output = nullptr;  // (B, T, N, Hv)
  int64_t output_strides[4] = {};
  Real* scores = nullptr;  // (B, N, T, S) contiguous, or null
  // (B, N, T) contiguous, or null: log sum_j exp(logit[j]) of each row's masked logits, what
  // the fused backward recomputes the probabilities from.
  Real* logsumexp = nullptr;
};

// The gradients of sum(output * d_output) for one attention problem. Written fresh, not
// accumulated; every output contiguous.
template <typename Real>
struct SdpaGradParams {
  const Real* d_output = nullptr;  // (B, T, N, Hv)
  int64_t d_output_strides[4] = {};
  Real* d_query = nullptr;  // (B, T, N, H)
  Real* d_key = nullptr;    // (B, S, K, H); a key/value head sums over the query heads using it
  Real* d_value = nullptr;  // (B, S, K, Hv)
};

// Elements of work buffer sdpa_forward_reference needs: one row of logits.
template <typename Real>
int64_t sdpa_reference_workspace_size(const SdpaParams<Real>& params) {
  return params.key_len;
}

// Writes params.output (and params.scores when not null). `workspace` holds
// sdpa_reference_workspace_size(params) elements. Allocates nothing, throws nothing.
template <typename Real>
void sdpa_forward_reference(const SdpaParams<Real>& params, Real* workspace) noexcept;

extern template void sdpa_forward_reference<float>(const SdpaParams<float>&, float*) noexcept;
extern template void sdpa_forward_reference<double>(const SdpaParams<double>&, double*) noexcept;

// Elements of work buffer sdpa_backward_reference needs: a row of probabilities and one of
// their gradients.
template <typename Real>
int64_t sdpa_backward_reference_workspace_size(const SdpaParams<Real>& params) {
  return 2 * params.key_len;
}

// Writes the gradients of `grads` for the forward problem `params` (its output, scores and
// logsumexp pointers are not used): recomputes each row's probabilities, drops the elements
// the forward dropped (same dropout_key), and backpropagates row by row. A masked logit passes
// no gradient on; a fully masked row passes its value gradient only (1 / S of d_output to
// every value on the uniform path, nothing on the zero path).
template <typename Real>
void sdpa_backward_reference(const SdpaParams<Real>& params, const SdpaGradParams<Real>& grads,
                             Real* workspace) noexcept;

extern template void sdpa_backward_reference<float>(const SdpaParams<float>&,
                                                    const SdpaGradParams<float>&, float*) noexcept;
extern template void sdpa_backward_reference<double>(const SdpaParams<double>&,
                                                     const SdpaGradParams<double>&,
                                                     double*) noexcept;

}  // namespace kattn::kernels
