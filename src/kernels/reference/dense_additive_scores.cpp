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
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t i = 0; i < dims.tq; ++i) {
      const T* q = query + (b * dims.tq + i) * dims.dim;
      T* row = scores + (b * dims.tq + i) * dims.tv;
      for (int64_t j = 0; j < dims.tv; ++j) {
        const T* k = key + (b * dims.tv + j) * dims.dim;
        T sum = 0;
        for (int64_t d = 0; d < dims.dim; ++d) {
          const T t = std::tanh(q[d] + k[d]);
          sum += scale != nullptr ? scale[d] * t : t;
        }
        row[j] = sum;
      }
    }
  }
}

template void additive_scores<float>(const Dims&, const float*, const float*, const float*,
                                     float*) noexcept;
template void additive_scores<double>(const Dims&, const double*, const double*, const double*,
                                      double*) noexcept;

}  // namespace kattn::kernels::reference::dense
