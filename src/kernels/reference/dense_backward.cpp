// The backward passes of the dense attention kernels (dense_attention.hpp), one per forward
// kernel, each under the forward line it differentiates. Gradients of the weights and inputs
// are added into (+=); the caller zeroes them.
#include <cmath>

#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void weighted_values_backward(const Dims& dims, const T* probs, const T* value,
                              const bool* query_mask, const T* d_output, T* d_probs,
                              T* d_value) noexcept {
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t i = 0; i < dims.tq; ++i) {
      // out[i] = keep_i * sum_j p[i, j] v[j]:  d_p[i, j] = keep_i * d_out[i] . v[j],
      // d_v[j] += keep_i * p[i, j] d_out[i]
      const T keep = query_mask == nullptr || query_mask[b * dims.tq + i] ? T(1) : T(0);
      const T* p = probs + (b * dims.tq + i) * dims.tv;
      const T* d_out = d_output + (b * dims.tq + i) * dims.value_dim;
      T* d_p = d_probs + (b * dims.tq + i) * dims.tv;
      for (int64_t j = 0; j < dims.tv; ++j) {
        const T* v = value + (b * dims.tv + j) * dims.value_dim;
        T* d_v = d_value + (b * dims.tv + j) * dims.value_dim;
        T dot = 0;
        for (int64_t e = 0; e < dims.value_dim; ++e) {
          dot += d_out[e] * v[e];
          d_v[e] += keep * p[j] * d_out[e];
        }
        d_p[j] = keep * dot;
      }
    }
  }
}

template <typename T>
void softmax_rows_backward(int64_t rows, int64_t length, const T* probs, T* d) noexcept {
  for (int64_t r = 0; r < rows; ++r) {
    // p = softmax(x):  d_x[j] = p[j] * (d_p[j] - sum_k p[k] d_p[k])
    const T* p = probs + r * length;
    T* g = d + r * length;
    T weighted = 0;
    for (int64_t j = 0; j < length; ++j) weighted += p[j] * g[j];
    for (int64_t j = 0; j < length; ++j) g[j] = p[j] * (g[j] - weighted);
  }
}

template <typename T>
void dot_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                         const T* d_scores, T* d_query, T* d_key, T* d_scale) noexcept {
  const T c = scale != nullptr ? *scale : T(1);
  for_each_pair(dims, [&](int64_t q, int64_t k, int64_t s) {
    // score = scale * q . k
    const T g = d_scores[s];
    T dot = 0;
    for (int64_t d = 0; d < dims.dim; ++d) {
      dot += query[q + d] * key[k + d];
      d_query[q + d] += g * c * key[k + d];
      d_key[k + d] += g * c * query[q + d];
    }
    if (d_scale != nullptr) *d_scale += g * dot;
  });
}

template <typename T>
void concat_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                            const T* concat_score_weight, const T* d_scores, T* d_query, T* d_key,
                            T* d_scale, T* d_concat_score_weight) noexcept {
  const T w = *concat_score_weight;
  for_each_pair(dims, [&](int64_t q, int64_t k, int64_t s) {
    // score = w * sum_d tanh(scale * (q_d + k_d))
    const T g = d_scores[s];
    T sum = 0;
    for (int64_t d = 0; d < dims.dim; ++d) {
      const T x = query[q + d] + key[k + d];
      const T t = std::tanh(scale != nullptr ? *scale * x : x);
      sum += t;
      const T d_pre = g * w * (1 - t * t);  // d score / d (scale * x)
      const T d_x = scale != nullptr ? d_pre * *scale : d_pre;
      d_query[q + d] += d_x;
      d_key[k + d] += d_x;
      if (d_scale != nullptr) *d_scale += d_pre * x;
    }
    *d_concat_score_weight += g * sum;
  });
}

template <typename T>
void additive_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                              const T* d_scores, T* d_query, T* d_key, T* d_scale) noexcept {
  for_each_pair(dims, [&](int64_t q, int64_t k, int64_t s) {
    // score = sum_d scale_d * tanh(q_d + k_d)
    const T g = d_scores[s];
    for (int64_t d = 0; d < dims.dim; ++d) {
      const T t = std::tanh(query[q + d] + key[k + d]);
      const T c = scale != nullptr ? scale[d] : T(1);
      const T d_x = g * c * (1 - t * t);
      d_query[q + d] += d_x;
      d_key[k + d] += d_x;
      if (d_scale != nullptr) d_scale[d] += g * t;
    }
  });
}

#define KATTN_DENSE_BACKWARD(T)                                                                  \
  template void weighted_values_backward<T>(const Dims&, const T*, const T*, const bool*,        \
                                            const T*, T*, T*) noexcept;                          \
  template void softmax_rows_backward<T>(int64_t, int64_t, const T*, T*) noexcept;               \
  template void dot_scores_backward<T>(const Dims&, const T*, const T*, const T*, const T*, T*,  \
                                       T*, T*) noexcept;                                         \
  template void concat_scores_backward<T>(const Dims&, const T*, const T*, const T*, const T*,   \
                                          const T*, T*, T*, T*, T*) noexcept;                    \
  template void additive_scores_backward<T>(const Dims&, const T*, const T*, const T*, const T*, \
                                            T*, T*, T*) noexcept;
KATTN_DENSE_BACKWARD(float)
KATTN_DENSE_BACKWARD(double)
#undef KATTN_DENSE_BACKWARD

}  // namespace kattn::kernels::reference::dense
