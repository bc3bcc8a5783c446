#include <algorithm>

#include "kernels/reference/sdpa.hpp"
#include "kernels/reference/sdpa_row.hpp"

namespace kattn::kernels {

template <typename Real>
void sdpa_backward_reference(const SdpaParams<Real>& p, const SdpaGradParams<Real>& g,
                             Real* workspace) noexcept {
  const int64_t B = p.batch, T = p.query_len, S = p.key_len, N = p.num_heads;
  const int64_t K = p.num_kv_heads, H = p.head_dim, Hv = p.value_dim;
  const int64_t group = N / K;
  const bool masked = reference_sdpa::masking(p);
  const int64_t* qs = p.query_strides;
  const int64_t* ks = p.key_strides;
  const int64_t* vs = p.value_strides;
  const int64_t* ds = g.d_output_strides;
  Real* probs = workspace;        // (S,)
  Real* d_probs = workspace + S;  // (S,)
  std::fill(g.d_query, g.d_query + B * T * N * H, Real(0));
  std::fill(g.d_key, g.d_key + B * S * K * H, Real(0));
  std::fill(g.d_value, g.d_value + B * S * K * Hv, Real(0));

  for (int64_t b = 0; b < B; ++b) {
    for (int64_t n = 0; n < N; ++n) {
      const int64_t kv = n / group;
      for (int64_t i = 0; i < T; ++i) {
        reference_sdpa::probabilities_row(p, b, n, i, probs);
        const int64_t flat_row = ((b * N + n) * T + i) * S;
        const Real* d_out = g.d_output + b * ds[0] + i * ds[1] + n * ds[2];  // (Hv,)

        // output = sum_j dropout(probs[j]) * value[j]:
        //   d_value[j] += dropout(probs[j]) * d_out;  d_probs[j] = dropout(d_out . value[j])
        for (int64_t j = 0; j < S; ++j) {
          const Real kept = reference_sdpa::apply_dropout(p, flat_row + j, probs[j]);
          Real* d_v = g.d_value + ((b * S + j) * K + kv) * Hv;
          const Real* v = p.value + b * vs[0] + j * vs[1] + kv * vs[2];
          Real dot = 0;
          for (int64_t h = 0; h < Hv; ++h) {
            d_v[h] += kept * d_out[h * ds[3]];
            dot += d_out[h * ds[3]] * v[h * vs[3]];
          }
          d_probs[j] = reference_sdpa::apply_dropout(p, flat_row + j, dot);
        }

        // probs = softmax(logits): d_logits[j] = probs[j] * (d_probs[j] - sum_k probs[k]
        // d_probs[k]). A masked logit is a constant (or gets probability 0), so it passes nothing
        // on; a fully masked row passes nothing to the query or the keys.
        Real weighted = 0;
        for (int64_t j = 0; j < S; ++j) weighted += probs[j] * d_probs[j];
        const Real* q = p.query + b * qs[0] + i * qs[1] + n * qs[2];
        Real* d_q = g.d_query + ((b * T + i) * N + n) * H;
        for (int64_t j = 0; j < S; ++j) {
          if (masked && !reference_sdpa::allowed(p, b, n, i, j)) continue;
          // logits[j] = scale * q . key[j]
          const Real d_dot = probs[j] * (d_probs[j] - weighted) * p.scale;
          const Real* k = p.key + b * ks[0] + j * ks[1] + kv * ks[2];
          Real* d_k = g.d_key + ((b * S + j) * K + kv) * H;
          for (int64_t h = 0; h < H; ++h) {
            d_q[h] += d_dot * k[h * ks[3]];
            d_k[h] += d_dot * q[h * qs[3]];
          }
        }
      }
    }
  }
}

template void sdpa_backward_reference<float>(const SdpaParams<float>&, const SdpaGradParams<float>&,
                                             float*) noexcept;
template void sdpa_backward_reference<double>(const SdpaParams<double>&,
                                              const SdpaGradParams<double>&, double*) noexcept;

}  // namespace kattn::kernels
