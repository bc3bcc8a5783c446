// One row of the reference attention: which keys a query may attend, and the row's logits and
// probabilities as keras.ops.dot_product_attention / keras.layers.Softmax compute them. Shared
// by the reference forward and backward kernels, so both see the same probabilities.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kattn/core/random.hpp"
#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels::reference_sdpa {

// keras.src.backend.*.nn._get_large_negative for float32/float64: the value a masked logit is
// replaced with on the dot_product_attention path.
template <typename Real>
constexpr Real kLargeNegative = static_cast<Real>(-0.7 * 3.38953e38);

// keras.layers.Softmax's _large_negative_number for float32/float64: added to masked logits on
// the einsum path.
template <typename Real>
constexpr Real kSoftmaxMaskAdder = static_cast<Real>(-1e9);

template <typename Real>
bool masking(const SdpaParams<Real>& p) {
  return p.mask != nullptr || p.is_causal || p.sliding_window > 0;
}

// Whether key j may be attended from query i of head n in batch b.
template <typename Real>
bool allowed(const SdpaParams<Real>& p, int64_t b, int64_t n, int64_t i, int64_t j) {
  if (p.mask != nullptr && !p.mask[b * p.mask_strides[0] + n * p.mask_strides[1] +
                                   i * p.mask_strides[2] + j * p.mask_strides[3]]) {
    return false;
  }
  const int64_t position = p.query_offset + i;
  if (p.is_causal && j > position) return false;
  if (p.sliding_window > 0 &&
      (position - j >= p.sliding_window || j - position >= p.sliding_window)) {
    return false;
  }
  return true;
}

// row[j] = probs[b, n, i, j] before dropout; returns the row's log-sum-exp of the (masked)
// logits. row: (S,)
template <typename Real>
Real probabilities_row(const SdpaParams<Real>& p, int64_t b, int64_t n, int64_t i, Real* row) {
  const int64_t kv = n / (p.num_heads / p.num_kv_heads);  // the key/value head n reads
  const bool masked = masking(p);
  const bool zero_masked = p.fully_masked_rows == FullyMaskedRows::kZero;
  const int64_t* qs = p.query_strides;
  const int64_t* ks = p.key_strides;

  // row[j] = logits[b, n, i, j]
  const Real* q = p.query + b * qs[0] + i * qs[1] + n * qs[2];
  Real max_logit = -std::numeric_limits<Real>::infinity();
  for (int64_t j = 0; j < p.key_len; ++j) {
    const Real* k = p.key + b * ks[0] + j * ks[1] + kv * ks[2];
    Real dot = 0;
    for (int64_t h = 0; h < p.head_dim; ++h) dot += q[h * qs[3]] * k[h * ks[3]];
    Real logit = dot * p.scale;
    if (masked && !allowed(p, b, n, i, j)) {
      logit = zero_masked ? logit + kSoftmaxMaskAdder<Real> : kLargeNegative<Real>;
    }
    row[j] = logit;
    max_logit = std::max(max_logit, logit);
  }

  // row[j] = exp(logit - max) / sum, masked positions then 0 on the einsum path
  Real sum = 0;
  for (int64_t j = 0; j < p.key_len; ++j) {
    row[j] = std::exp(row[j] - max_logit);
    sum += row[j];
  }
  for (int64_t j = 0; j < p.key_len; ++j) {
    row[j] /= sum;
    if (zero_masked && masked && !allowed(p, b, n, i, j)) row[j] = 0;
  }
  return max_logit + std::log(sum);
}

// x (probability or its gradient at (b, n, i, j)) through dropout: 0 when the element is
// dropped, else x / (1 - rate), as keras.random.dropout; x without dropout.
template <typename Real>
Real apply_dropout(const SdpaParams<Real>& p, int64_t flat_index, Real x) {
  if (p.dropout_rate <= 0.0) return x;
  return dropout_keeps(p.dropout_key, static_cast<uint64_t>(flat_index), p.dropout_rate)
             ? x / static_cast<Real>(1.0 - p.dropout_rate)
             : Real(0);
}

}  // namespace kattn::kernels::reference_sdpa
