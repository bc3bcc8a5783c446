// Attention(score_mode="concat") scores, Keras's Attention._calculate_scores:
//   scores = concat_score_weight * ops.sum(ops.tanh(scale * (q + k)), axis=-1)
// with q (B, Tq, 1, D) and k (B, 1, Tv, D) broadcast; without use_scale the tanh argument is
// q + k.
//
//   query (B, Tq, D), key (B, Tv, D), scale () or null, concat_score_weight ()
//   ->  scores (B, Tq, Tv)
#include <cmath>

#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void concat_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                   const T* concat_score_weight, T* scores) noexcept {
  // q + k first, then the scale: the order of `self.scale * (q_reshaped + k_reshaped)`.
  score_pairs(
      dims, query, key, scores,
      [&](T q, T k, int64_t) { return std::tanh(scale != nullptr ? *scale * (q + k) : q + k); },
      [&](T sum) { return *concat_score_weight * sum; });
}

template void concat_scores<float>(const Dims&, const float*, const float*, const float*,
                                   const float*, float*) noexcept;
template void concat_scores<double>(const Dims&, const double*, const double*, const double*,
                                    const double*, double*) noexcept;

}  // namespace kattn::kernels::reference::dense
