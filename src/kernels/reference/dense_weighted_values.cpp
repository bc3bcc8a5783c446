// The output of Attention.call:
//   result = ops.matmul(weights, value)                          (Attention._apply_scores)
//   result *= ops.cast(ops.expand_dims(q_mask, -1), result.dtype)  (Attention.call)
// The query mask multiplies rather than overwrites, as Keras does: a masked row is 0 * x
// (-0.0 for negative x, NaN for non-finite x), and its attention distribution is untouched.
//
//   probs (B, Tq, Tv), value (B, Tv, Dv), query_mask (B, Tq) or null  ->  output (B, Tq, Dv)
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void weighted_values(const Dims& dims, const T* probs, const T* value, const bool* query_mask,
                     T* output) noexcept {
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t i = 0; i < dims.tq; ++i) {
      const T* p = probs + (b * dims.tq + i) * dims.tv;
      T* out = output + (b * dims.tq + i) * dims.value_dim;
      for (int64_t e = 0; e < dims.value_dim; ++e) out[e] = 0;
      for (int64_t j = 0; j < dims.tv; ++j) {
        const T* v = value + (b * dims.tv + j) * dims.value_dim;
        for (int64_t e = 0; e < dims.value_dim; ++e) out[e] += p[j] * v[e];
      }
      if (query_mask != nullptr) {
        const T keep = query_mask[b * dims.tq + i] ? T(1) : T(0);
        for (int64_t e = 0; e < dims.value_dim; ++e) out[e] *= keep;
      }
    }
  }
}

template void weighted_values<float>(const Dims&, const float*, const float*, const bool*,
                                     float*) noexcept;
template void weighted_values<double>(const Dims&, const double*, const double*, const bool*,
                                      double*) noexcept;

}  // namespace kattn::kernels::reference::dense
