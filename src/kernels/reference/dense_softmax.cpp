// ops.softmax(scores, axis=-1) on Keras's numpy backend:
//   exp_x = np.exp(x - np.max(x, axis, keepdims=True)); exp_x / np.sum(exp_x, axis, keepdims=True)
// Subtracting the row maximum keeps exp() finite, and after Keras's -1e9 masking a masked
// entry of a row with an unmasked one underflows to exactly 0.
//
//   x (rows, length), in place
#include <cmath>

#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void softmax_rows(int64_t rows, int64_t length, T* x) noexcept {
  if (length == 0) return;
  for (int64_t r = 0; r < rows; ++r) {
    T* row = x + r * length;
    T max = row[0];
    for (int64_t j = 1; j < length; ++j) {
      if (row[j] > max) max = row[j];
    }
    T sum = 0;
    for (int64_t j = 0; j < length; ++j) {
      row[j] = std::exp(row[j] - max);
      sum += row[j];
    }
    for (int64_t j = 0; j < length; ++j) row[j] /= sum;
  }
}

template void softmax_rows<float>(int64_t, int64_t, float*) noexcept;
template void softmax_rows<double>(int64_t, int64_t, double*) noexcept;

}  // namespace kattn::kernels::reference::dense
