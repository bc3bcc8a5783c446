#include "kernels/reference/sdpa.hpp"

#include <algorithm>

#include "kernels/reference/sdpa_row.hpp"

namespace kattn::kernels {

template <typename Real>
void sdpa_forward_reference(const SdpaParams<Real>& p, Real* row) noexcept {
  const int64_t group = p.num_heads / p.num_kv_heads;  // query heads per key/value head
  const int64_t* vs = p.value_strides;
  const int64_t* os = p.output_strides;

  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t n = 0; n < p.num_heads; ++n) {
      const int64_t kv = n / group;  // the key/value head this query head reads
      for (int64_t i = 0; i < p.query_len; ++i) {
        // row[j] = probs[b, n, i, j]                                           row: (S,)
        const Real lse = reference_sdpa::probabilities_row(p, b, n, i, row);
        const int64_t flat_row = ((b * p.num_heads + n) * p.query_len + i) * p.key_len;
        if (p.scores != nullptr) std::copy(row, row + p.key_len, p.scores + flat_row);
        if (p.logsumexp != nullptr) p.logsumexp[(b * p.num_heads + n) * p.query_len + i] = lse;

        // Dropout on the probabilities (Keras's Dropout layer), after the scores are saved.
        for (int64_t j = 0; j < p.key_len; ++j) {
          row[j] = reference_sdpa::apply_dropout(p, flat_row + j, row[j]);
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
