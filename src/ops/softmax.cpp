// keras.ops.softmax on Keras's numpy backend (keras/src/backend/numpy/nn.py softmax, and the
// Softmax layer's logsumexp form for several axes).
#include "kattn/ops/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/axis_groups.hpp"

namespace kattn::ops {

using detail::axis_groups;
using detail::AxisGroups;

template <typename Real>
BasicTensor<Real> softmax(const BasicTensor<Real>& x, const std::vector<int64_t>& axes) {
  BasicTensor<Real> y = x.clone();  // contiguous
  const AxisGroups groups = axis_groups(y.shape(), axes);
  Real* v = y.data();
  for (const int64_t base : groups.outer) {
    Real max = -std::numeric_limits<Real>::infinity();
    for (const int64_t j : groups.inner) max = std::max(max, v[base + j]);
    Real sum = Real(0);
    if (axes.size() == 1) {
      for (const int64_t j : groups.inner) sum += v[base + j] = std::exp(v[base + j] - max);
      for (const int64_t j : groups.inner) v[base + j] /= sum;
    } else {
      for (const int64_t j : groups.inner) sum += std::exp(v[base + j] - max);
      const Real log_sum_exp = max + std::log(sum);
      for (const int64_t j : groups.inner) v[base + j] = std::exp(v[base + j] - log_sum_exp);
    }
  }
  return y;
}

template <typename Real>
BasicTensor<Real> softmax_backward(const BasicTensor<Real>& y, const BasicTensor<Real>& d_y,
                                   const std::vector<int64_t>& axes) {
  const BasicTensor<Real> probs = y.contiguous();
  BasicTensor<Real> d = d_y.clone();
  const AxisGroups groups = axis_groups(d.shape(), axes);
  for (const int64_t base : groups.outer) {
    Real dot = Real(0);
    for (const int64_t j : groups.inner) dot += d.data()[base + j] * probs.data()[base + j];
    for (const int64_t j : groups.inner) {
      d.data()[base + j] = probs.data()[base + j] * (d.data()[base + j] - dot);
    }
  }
  return d;
}

template Tensor softmax(const Tensor&, const std::vector<int64_t>&);
template TensorF64 softmax(const TensorF64&, const std::vector<int64_t>&);
template Tensor softmax_backward(const Tensor&, const Tensor&, const std::vector<int64_t>&);
template TensorF64 softmax_backward(const TensorF64&, const TensorF64&,
                                    const std::vector<int64_t>&);

}  // namespace kattn::ops
