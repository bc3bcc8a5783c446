// Attention(score_mode="dot") scores, Keras's Attention._calculate_scores:
//   scores = ops.matmul(query, key^T); scores *= scale        (scale only with use_scale)
//
//   query (B, Tq, D), key (B, Tv, D), scale () or null  ->  scores (B, Tq, Tv)
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void dot_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                T* scores) noexcept {
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t i = 0; i < dims.tq; ++i) {
      const T* q = query + (b * dims.tq + i) * dims.dim;
      T* row = scores + (b * dims.tq + i) * dims.tv;
      for (int64_t j = 0; j < dims.tv; ++j) {
        const T* k = key + (b * dims.tv + j) * dims.dim;
        T sum = 0;
        for (int64_t d = 0; d < dims.dim; ++d) sum += q[d] * k[d];
        // The scale multiplies the finished product, as `scores *= self.scale` does.
        row[j] = scale != nullptr ? sum * *scale : sum;
      }
    }
  }
}

template void dot_scores<float>(const Dims&, const float*, const float*, const float*,
                                float*) noexcept;
template void dot_scores<double>(const Dims&, const double*, const double*, const double*,
                                 double*) noexcept;

}  // namespace kattn::kernels::reference::dense
