// Dropout on the attention distribution, Keras's Attention._apply_scores:
//   weights = backend.random.dropout(weights, self.dropout, seed=self.seed_generator)
// which keeps an element with probability 1 - rate and divides kept elements by 1 - rate.
// The keep decision of element n is dropout_keeps(key, n, rate): it depends on the call's key
// and the element's flat index only, so it does not change with threads or tiling.
//
//   probs (count,) = the flattened (B, Tq, Tv) distribution, in place
#include "kattn/core/random.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void dropout(int64_t count, uint64_t key, double rate, T* probs) noexcept {
  const T keep_prob = static_cast<T>(1.0 - rate);
  for (int64_t n = 0; n < count; ++n) {
    probs[n] = dropout_keeps(key, static_cast<uint64_t>(n), rate) ? probs[n] / keep_prob : T(0);
  }
}

template void dropout<float>(int64_t, uint64_t, double, float*) noexcept;
template void dropout<double>(int64_t, uint64_t, double, double*) noexcept;

}  // namespace kattn::kernels::reference::dense
