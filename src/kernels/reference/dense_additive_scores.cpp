// AdditiveAttention scores, Keras's AdditiveAttention._calculate_scores:
//   scores = ops.sum(scale * ops.tanh(q + k), axis=-1)
// with q (B, Tq, 1, D) and k (B, 1, Tv, D) broadcast; scale is the (D,) weight with use_scale,
// else the number 1.0.
//
//   query (B, Tq, D), key (B, Tv, D), scale (D,) or null  ->  scores (B, Tq, Tv)
#include <cmath>

#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void additive_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                     T* scores) noexcept {
  score_pairs(
      dims, query, key, scores,
      [&](T q, T k, int64_t d) {
        const T t = std::tanh(q + k);
        return scale != nullptr ? scale[d] * t : t;
      },
      [](T sum) { return sum; });
}

template void additive_scores<float>(const Dims&, const float*, const float*, const float*,
                                     float*) noexcept;
template void additive_scores<double>(const Dims&, const double*, const double*, const double*,
                                      double*) noexcept;

}  // namespace kattn::kernels::reference::dense
