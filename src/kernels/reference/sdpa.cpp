#include "kernels/reference/sdpa.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kattn/random.hpp"

namespace kattn::kernels {

namespace {

// keras.src.backend.*.nn._get_large_negative for float32/float64: the value a masked logit is
// replaced with on the dot_product_attention path.
template <typename Real>
constexpr Real kLargeNegative = static_cast<Real>(-0.7 * 3.38953e38);

// keras.layers.Softmax's _large_negative_number for float32/float64: added to masked logits on
// the einsum path.
template <typename Real>
constexpr Real kSoftmaxMaskAdder = static_cast<Real>(-1e9);

// Whether key j may be attended from query i of head n in batch b.
template <typename Real>
bool allowed(const SdpaParams<Real>& p, int64_t b, int64_t n, int64_t i, int64_t j) {
  if (p.mask != nullptr && !p.mask[b * p.mask_strides[0] + n * p.mask_strides[1] +
                                   i * p.mask_strides[2] + j * p.mask_strides[3]]) {
    return false;
  }
  if (p.is_causal && j > i) return false;
  if (p.sliding_window > 0 && (i - j >= p.sliding_window || j - i >= p.sliding_window)) {
    return false;
  }
  return true;
}

}  // namespace

template <typename Real>
void sdpa_forward_reference(const SdpaParams<Real>& p, Real* row) noexcept {
  const int64_t group = p.num_heads / p.num_kv_heads;  // query heads per key/value head
  const bool masking = p.mask != nullptr || p.is_causal || p.sliding_window > 0;
  const bool zero_masked = p.fully_masked_rows == ops::FullyMaskedRows::kZero;
  const Real keep_prob = static_cast<Real>(1.0 - p.dropout_rate);
  const int64_t* qs = p.query_strides;
  const int64_t* ks = p.key_strides;
  const int64_t* vs = p.value_strides;
  const int64_t* os = p.output_strides;

  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t n = 0; n < p.num_heads; ++n) {
      const int64_t kv = n / group;  // the key/value head this query head reads
      for (int64_t i = 0; i < p.query_len; ++i) {
        // row[j] = logits[b, n, i, j]                                          row: (S,)
        const Real* q = p.query + b * qs[0] + i * qs[1] + n * qs[2];
        Real max_logit = -std::numeric_limits<Real>::infinity();
        for (int64_t j = 0; j < p.key_len; ++j) {
          const Real* k = p.key + b * ks[0] + j * ks[1] + kv * ks[2];
          Real dot = 0;
          for (int64_t h = 0; h < p.head_dim; ++h) dot += q[h * qs[3]] * k[h * ks[3]];
          Real logit = dot * p.scale;
          if (masking && !allowed(p, b, n, i, j)) {
            logit = zero_masked ? logit + kSoftmaxMaskAdder<Real> : kLargeNegative<Real>;
          }
          row[j] = logit;
          max_logit = std::max(max_logit, logit);
        }

        // row[j] = probs[b, n, i, j] = exp(logit - max) / sum                  row: (S,)
        Real sum = 0;
        for (int64_t j = 0; j < p.key_len; ++j) {
          row[j] = std::exp(row[j] - max_logit);
          sum += row[j];
        }
        for (int64_t j = 0; j < p.key_len; ++j) {
          row[j] /= sum;
          if (zero_masked && masking && !allowed(p, b, n, i, j)) row[j] = 0;
        }
        const int64_t flat_row = ((b * p.num_heads + n) * p.query_len + i) * p.key_len;
        if (p.scores != nullptr) std::copy(row, row + p.key_len, p.scores + flat_row);

        // Dropout on the probabilities (Keras's Dropout layer), after the scores are saved.
        if (p.dropout_rate > 0.0) {
          for (int64_t j = 0; j < p.key_len; ++j) {
            const bool keep =
                dropout_keeps(p.dropout_key, static_cast<uint64_t>(flat_row + j), p.dropout_rate);
            row[j] = keep ? row[j] / keep_prob : Real(0);
          }
        }

        // output[b, i, n, :] = sum_j row[j] * value[b, j, kv, :]               (Hv,)
        Real* out = p.output + b * os[0] + i * os[1] + n * os[2];
        for (int64_t h = 0; h < p.value_dim; ++h) {
          Real acc = 0;
          for (int64_t j = 0; j < p.key_len; ++j) {
            acc += row[j] * p.value[b * vs[0] + j * vs[1] + kv * vs[2] + h * vs[3]];
          }
          out[h * os[3]] = acc;
        }
      }
    }
  }
}

template void sdpa_forward_reference<float>(const SdpaParams<float>&, float*) noexcept;
template void sdpa_forward_reference<double>(const SdpaParams<double>&, double*) noexcept;

}  // namespace kattn::kernels
