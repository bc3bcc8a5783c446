// keras.ops.softmax on Keras's numpy backend (keras/src/backend/numpy/nn.py softmax, and the
// Softmax layer's logsumexp form for several axes).
#include "kattn/ops/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/strided.hpp"

namespace kattn::ops {

namespace {

// The elements of a contiguous tensor of `shape` grouped by the positions of the axes not in
// `axes`: group g holds the elements at outer[g] + inner[j].
struct Groups {
  std::vector<int64_t> outer;
  std::vector<int64_t> inner;
};

Groups groups_over(const Shape& shape, const std::vector<int64_t>& axes) {
  const Shape strides = contiguous_strides(shape);
  Shape outer_shape, outer_strides, inner_shape, inner_strides;
  for (int64_t axis = 0; axis < static_cast<int64_t>(shape.size()); ++axis) {
    const bool reduced = std::find(axes.begin(), axes.end(), axis) != axes.end();
    (reduced ? inner_shape : outer_shape).push_back(shape[static_cast<size_t>(axis)]);
    (reduced ? inner_strides : outer_strides).push_back(strides[static_cast<size_t>(axis)]);
  }
  Groups groups;
  detail::for_each_offset(outer_shape, outer_strides,
                          [&](int64_t offset) { groups.outer.push_back(offset); });
  detail::for_each_offset(inner_shape, inner_strides,
                          [&](int64_t offset) { groups.inner.push_back(offset); });
  return groups;
}

}  // namespace

template <typename Real>
BasicTensor<Real> softmax(const BasicTensor<Real>& x, const std::vector<int64_t>& axes) {
  BasicTensor<Real> y = x.clone();  // contiguous
  const Groups groups = groups_over(y.shape(), axes);
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
  const Groups groups = groups_over(d.shape(), axes);
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
