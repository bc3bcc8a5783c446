// The cross-correlation of keras.ops.conv over one or two spatial axes (Conv1D, Conv2D), in
// float and in double, and its backward.
//
//   x (B, S0[, S1], C) channels_last, kernel (k0[, k1], C / groups, F), bias (F,) or none:
//   y[b, i, j, o] = bias[o] + sum_{p, q, c} xp[b, i * s0 + p * d0, j * s1 + q * d1, g * Cg + c]
//                                          * kernel[p, q, c, o]
//   with g = o / (F / groups), Cg = C / groups, and xp the input with pad_before zeros before
//   each spatial axis (cells past its end are zeros too).
#pragma once

#include <cstdint>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn::ops {

struct Convolution {
  // One entry per spatial axis (1 or 2).
  std::vector<int64_t> strides;
  std::vector<int64_t> dilation_rate;
  std::vector<int64_t> pad_before;   // zeros before the axis
  std::vector<int64_t> output_size;  // windows along the axis
  int64_t groups = 1;
};

// y (B, P0[, P1], F) for contiguous x and kernel; the caller checks the shapes.
template <typename Real>
BasicTensor<Real> convolution(const BasicTensor<Real>& x, const BasicTensor<Real>& kernel,
                              const BasicTensor<Real>* bias, const Convolution& conv);

// The backward of convolution() for d_y (y's shape, contiguous): returns d_x (x's shape) and adds
// into d_kernel (the kernel's shape) and, when not null, d_bias (F,). Padding cells take no
// gradient.
//   d_x[b, i * s0 + p * d0 - pad0, ..., g * Cg + c] += d_y[b, i, j, o] * kernel[p, q, c, o]
//   d_kernel[p, q, c, o] += xp[b, i * s0 + p * d0, ..., g * Cg + c] * d_y[b, i, j, o]
//   d_bias[o] += sum over b, i, j of d_y[b, i, j, o]
template <typename Real>
BasicTensor<Real> convolution_backward(const BasicTensor<Real>& x, const BasicTensor<Real>& kernel,
                                       const BasicTensor<Real>& d_y, const Convolution& conv,
                                       BasicTensor<Real>& d_kernel, BasicTensor<Real>* d_bias);

}  // namespace kattn::ops
