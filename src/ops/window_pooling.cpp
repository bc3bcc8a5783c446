// Max and average pooling over one or two spatial axes, and their backward.
#include "ops/window_pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kattn::ops {

int64_t pooled_length(int64_t length, int64_t pool_size, int64_t stride, bool same_padding) {
  if (length < 0) return -1;
  // numpy's floor((L - k) / s) + 1 and floor((L - 1) / s) + 1, in integers.
  const int64_t span = same_padding ? length - 1 : length - pool_size;
  const int64_t floor = span >= 0 ? span / stride : -((-span + stride - 1) / stride);
  return floor + 1;
}

namespace {

// One spatial axis of a pooling: its windows and where they start.
struct Axis {
  int64_t length = 1;  // input cells
  int64_t out = 1;     // windows
  int64_t size = 1;    // cells per window
  int64_t stride = 1;
  int64_t pad = 0;  // padded cells before the first

  // The real cells [begin, end) of window w.
  int64_t begin(int64_t w) const { return std::max<int64_t>(w * stride - pad, 0); }
  int64_t end(int64_t w) const { return std::min(w * stride - pad + size, length); }
};

// The pooling as a (B, S0, S1, C) walk whatever the layout: element (b, i, j, c) of a tensor
// with these axis lengths lies at offset(...) of its contiguous data.
struct Walk {
  int64_t batch = 0, channels = 0;
  Axis rows, cols;  // cols is a one-cell axis for one spatial axis
  bool channels_first = false;

  int64_t in_offset(int64_t b, int64_t i, int64_t j, int64_t c) const {
    return channels_first ? ((b * channels + c) * rows.length + i) * cols.length + j
                          : ((b * rows.length + i) * cols.length + j) * channels + c;
  }
  int64_t out_offset(int64_t b, int64_t i, int64_t j, int64_t c) const {
    return channels_first ? ((b * channels + c) * rows.out + i) * cols.out + j
                          : ((b * rows.out + i) * cols.out + j) * channels + c;
  }
};

Axis make_axis(int64_t length, int64_t size, int64_t stride, bool same_padding) {
  Axis axis{length, pooled_length(length, size, stride, same_padding), size, stride, 0};
  if (same_padding) {
    axis.pad = std::max<int64_t>((axis.out - 1) * stride + size - length, 0) / 2;
  }
  return axis;
}

Walk make_walk(const Shape& shape, const WindowPooling& pooling) {
  const size_t spatial = pooling.pool_size.size();
  const size_t first = pooling.channels_first ? 2 : 1;
  Walk walk;
  walk.batch = shape[0];
  walk.channels = shape[pooling.channels_first ? 1 : shape.size() - 1];
  walk.channels_first = pooling.channels_first;
  walk.rows =
      make_axis(shape[first], pooling.pool_size[0], pooling.strides[0], pooling.same_padding);
  if (spatial == 2) {
    walk.cols =
        make_axis(shape[first + 1], pooling.pool_size[1], pooling.strides[1], pooling.same_padding);
  }
  return walk;
}

Shape output_shape(const Shape& shape, const Walk& walk, const WindowPooling& pooling) {
  Shape output = shape;
  const size_t first = pooling.channels_first ? 2 : 1;
  output[first] = walk.rows.out;
  if (pooling.pool_size.size() == 2) output[first + 1] = walk.cols.out;
  return output;
}

// Calls visit(b, i, j, c, window) for every output cell, window(f) calling f(offset) for each
// real input cell of the window in row-major order.
template <typename Visit>
void for_each_window(const Walk& walk, Visit&& visit) {
  for (int64_t b = 0; b < walk.batch; ++b) {
    for (int64_t i = 0; i < walk.rows.out; ++i) {
      for (int64_t j = 0; j < walk.cols.out; ++j) {
        for (int64_t c = 0; c < walk.channels; ++c) {
          const auto window = [&](auto&& cell) {
            for (int64_t p = walk.rows.begin(i); p < walk.rows.end(i); ++p) {
              for (int64_t q = walk.cols.begin(j); q < walk.cols.end(j); ++q) {
                cell(walk.in_offset(b, p, q, c));
              }
            }
          };
          visit(walk.out_offset(b, i, j, c), window);
        }
      }
    }
  }
}

}  // namespace

template <typename Real>
BasicTensor<Real> window_pool(const BasicTensor<Real>& inputs, const WindowPooling& pooling) {
  const BasicTensor<Real> x = inputs.contiguous();
  const Walk walk = make_walk(x.shape(), pooling);
  BasicTensor<Real> output(output_shape(x.shape(), walk, pooling));
  const Real* in = x.data();
  Real* out = output.data();
  for_each_window(walk, [&](int64_t o, const auto& window) {
    if (pooling.mode == PoolMode::kMax) {
      Real max = -std::numeric_limits<Real>::infinity();
      window([&](int64_t offset) {
        if (!std::isnan(max) && (in[offset] > max || std::isnan(in[offset]))) max = in[offset];
      });
      out[o] = max;
    } else {
      Real sum = 0;
      Real count = 0;
      window([&](int64_t offset) {
        sum += in[offset];
        count += 1;
      });
      out[o] = sum / count;
    }
  });
  return output;
}

template <typename Real>
BasicTensor<Real> window_pool_backward(const BasicTensor<Real>& inputs,
                                       const BasicTensor<Real>& d_output,
                                       const WindowPooling& pooling) {
  const BasicTensor<Real> x = inputs.contiguous();
  const BasicTensor<Real> d = d_output.contiguous();
  const Walk walk = make_walk(x.shape(), pooling);
  BasicTensor<Real> d_inputs(x.shape());  // zeros
  const Real* in = x.data();
  Real* d_in = d_inputs.data();
  for_each_window(walk, [&](int64_t o, const auto& window) {
    if (pooling.mode == PoolMode::kMax) {
      int64_t first_max = -1;
      window([&](int64_t offset) {
        if (first_max < 0 || in[offset] > in[first_max]) first_max = offset;
      });
      if (first_max >= 0) d_in[first_max] += d.data()[o];
    } else {
      Real count = 0;
      window([&](int64_t) { count += 1; });
      window([&](int64_t offset) { d_in[offset] += d.data()[o] / count; });
    }
  });
  return d_inputs;
}

#define KATTN_INSTANTIATE_WINDOW_POOLING(Real)                                                  \
  template BasicTensor<Real> window_pool<Real>(const BasicTensor<Real>&, const WindowPooling&); \
  template BasicTensor<Real> window_pool_backward<Real>(                                        \
      const BasicTensor<Real>&, const BasicTensor<Real>&, const WindowPooling&);
KATTN_INSTANTIATE_WINDOW_POOLING(float)
KATTN_INSTANTIATE_WINDOW_POOLING(double)
#undef KATTN_INSTANTIATE_WINDOW_POOLING

}  // namespace kattn::ops
