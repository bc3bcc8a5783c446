// Attention(score_mode="dot") scores, Keras's Attention._calculate_scores:
//   scores = ops.matmul(query, key^T); scores *= scale        (scale only with use_scale)
//
//   query (B, Tq, D), key (B, Tv, D), scale () or null  ->  scores (B, Tq, Tv)
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void dot_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                T* scores) noexcept {
  // The scale multiplies the finished product, as `scores *= self.scale` does.
  score_pairs(
      dims, query, key, scores, [](T q, T k, int64_t) { return q * k; },
      [&](T sum) { return scale != nullptr ? sum * *scale : sum; });
}

template void dot_scores<float>(const Dims&, const float*, const float*, const float*,
                                float*) noexcept;
template void dot_scores<double>(const Dims&, const double*, const double*, const double*,
                                 double*) noexcept;

}  // namespace kattn::kernels::reference::dense
