// keras.ops.softmax over one or several axes, as Keras's numpy backend computes it, in float32
// and in double (for the gradient checks). The Softmax layer calls it.
//
//   one axis:     y = exp(x - max) / sum(exp(x - max))       (keras.activations.softmax)
//   several axes: y = exp(x - logsumexp(x))                   (the Softmax layer's list axis)
//   with max, sum and logsumexp over the axes jointly, for every position of the other axes.
#pragma once

#include <cstdint>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn::ops {

// `axes`: distinct, in [0, rank). A new tensor of x's shape.
template <typename Real>
BasicTensor<Real> softmax(const BasicTensor<Real>& x, const std::vector<int64_t>& axes);
// d x for d y of y = softmax(x, axes): y * (dy - sum(dy * y)) over the axes.
template <typename Real>
BasicTensor<Real> softmax_backward(const BasicTensor<Real>& y, const BasicTensor<Real>& d_y,
                                   const std::vector<int64_t>& axes);

extern template Tensor softmax(const Tensor&, const std::vector<int64_t>&);
extern template TensorF64 softmax(const TensorF64&, const std::vector<int64_t>&);
extern template Tensor softmax_backward(const Tensor&, const Tensor&, const std::vector<int64_t>&);
extern template TensorF64 softmax_backward(const TensorF64&, const TensorF64&,
                                           const std::vector<int64_t>&);

}  // namespace kattn::ops
