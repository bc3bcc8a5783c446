// keras.ops.max_pool and keras.ops.average_pool over one or two spatial axes (the numpy
// backend's lax.reduce_window), and their backward, in float and in double.
//
//   channels_last inputs (B, S0[, S1], C), channels_first (B, C, S0[, S1]); per spatial axis a
//   window of pool_size[a] cells every strides[a] cells:
//     "valid": out = floor((S - k) / s) + 1 windows, all inside the input
//     "same":  out = ceil(S / s) windows over the input padded with total = max((out - 1) * s +
//              k - S, 0) cells, total // 2 of them before (the SAME rule); padded cells are
//              left out: max ignores them, average divides by the number of real cells
//   max:     the largest real cell (NaN propagates)
//   average: the sum of the real cells / their count
#pragma once

#include <cstdint>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn::ops {

enum class PoolMode { kMax, kAverage };

struct WindowPooling {
  std::vector<int64_t> pool_size;  // one per spatial axis (1 or 2), > 0
  std::vector<int64_t> strides;    // one per spatial axis, > 0
  bool same_padding = false;       // "same", else "valid"
  bool channels_first = false;
  PoolMode mode = PoolMode::kMax;
};

// The number of windows along a spatial axis of `length` cells (-1: unknown stays unknown);
// 0 or less for "valid" windows larger than the input (the caller reports it).
int64_t pooled_length(int64_t length, int64_t pool_size, int64_t stride, bool same_padding);

// The pooled output, shaped as the inputs with each spatial axis pooled_length() long. The
// caller checks the rank and that every pooled length is > 0 (or the input empty).
template <typename Real>
BasicTensor<Real> window_pool(const BasicTensor<Real>& inputs, const WindowPooling& pooling);

// d_inputs (the inputs' shape) for d_output (the output's shape): max passes each window's
// gradient to its first largest cell (row-major), as the select-and-scatter gradient of
// reduce_window max does; average spreads it equally over the window's real cells. Windows that
// overlap add up.
template <typename Real>
BasicTensor<Real> window_pool_backward(const BasicTensor<Real>& inputs,
                                       const BasicTensor<Real>& d_output,
                                       const WindowPooling& pooling);

}  // namespace kattn::ops
