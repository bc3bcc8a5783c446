// Conv1D's and Conv2D's cross-correlation and its backward: one walk over the output cells
// and the kernel taps that land inside the input.
#include "ops/convolution.hpp"

namespace kattn::ops {

namespace {

// The convolution as a 2-D one (a one-cell second axis for 1-D): the sizes of every axis.
struct Geometry {
  int64_t batch, rows, cols, channels;  // x (B, S0, S1, C)
  int64_t out_rows, out_cols, filters;  // y (B, P0, P1, F)
  int64_t k_rows, k_cols, group_channels, group_filters, groups;
  int64_t s_rows, s_cols, d_rows, d_cols, pad_rows, pad_cols;
};

template <typename Real>
Geometry geometry(const BasicTensor<Real>& x, const BasicTensor<Real>& kernel,
                  const Convolution& conv) {
  const bool two = conv.strides.size() == 2;
  Geometry g{};
  g.batch = x.dim(0);
  g.rows = x.dim(1);
  g.cols = two ? x.dim(2) : 1;
  g.channels = x.dim(-1);
  g.out_rows = conv.output_size[0];
  g.out_cols = two ? conv.output_size[1] : 1;
  g.filters = kernel.dim(-1);
  g.k_rows = kernel.dim(0);
  g.k_cols = two ? kernel.dim(1) : 1;
  g.group_channels = kernel.dim(-2);
  g.groups = conv.groups;
  g.group_filters = g.filters / conv.groups;
  g.s_rows = conv.strides[0];
  g.s_cols = two ? conv.strides[1] : 1;
  g.d_rows = conv.dilation_rate[0];
  g.d_cols = two ? conv.dilation_rate[1] : 1;
  g.pad_rows = conv.pad_before[0];
  g.pad_cols = two ? conv.pad_before[1] : 0;
  return g;
}

// Calls tap(out_cell, in_cell, tap_index) for every output cell (b, i, j) and kernel tap
// (p, q) inside the input: the offsets of y's (F,) row, x's (C,) row and the kernel's (Cg, F)
// block. Calls done(out_cell) after each output cell's taps.
template <typename Tap, typename Done>
void for_each_tap(const Geometry& g, Tap&& tap, Done&& done) {
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t i = 0; i < g.out_rows; ++i) {
      for (int64_t j = 0; j < g.out_cols; ++j) {
        const int64_t out_cell = ((b * g.out_rows + i) * g.out_cols + j) * g.filters;
        for (int64_t p = 0; p < g.k_rows; ++p) {
          const int64_t row = i * g.s_rows + p * g.d_rows - g.pad_rows;
          if (row < 0 || row >= g.rows) continue;  // a padding zero
          for (int64_t q = 0; q < g.k_cols; ++q) {
            const int64_t col = j * g.s_cols + q * g.d_cols - g.pad_cols;
            if (col < 0 || col >= g.cols) continue;
            tap(out_cell, ((b * g.rows + row) * g.cols + col) * g.channels,
                (p * g.k_cols + q) * g.group_channels * g.filters);
          }
        }
        done(out_cell);
      }
    }
  }
}

}  // namespace

template <typename Real>
BasicTensor<Real> convolution(const BasicTensor<Real>& x, const BasicTensor<Real>& kernel,
                              const BasicTensor<Real>* bias, const Convolution& conv) {
  const Geometry g = geometry(x, kernel, conv);
  Shape shape{g.batch, g.out_rows};
  if (conv.strides.size() == 2) shape.push_back(g.out_cols);
  shape.push_back(g.filters);
  BasicTensor<Real> output(shape);  // zeros
  const Real* in = x.data();
  const Real* k = kernel.data();
  Real* out = output.data();
  for_each_tap(
      g,
      [&](int64_t out_cell, int64_t in_cell, int64_t tap) {
        Real* y = out + out_cell;
        for (int64_t group = 0; group < g.groups; ++group) {
          for (int64_t c = 0; c < g.group_channels; ++c) {
            const Real value = in[in_cell + group * g.group_channels + c];
            // kernel[p, q, c, o] for the filters o of the group.
            const Real* k_row = k + tap + c * g.filters + group * g.group_filters;
            Real* y_group = y + group * g.group_filters;
            for (int64_t o = 0; o < g.group_filters; ++o) y_group[o] += value * k_row[o];
          }
        }
      },
      [&](int64_t out_cell) {
        if (bias == nullptr) return;
        for (int64_t o = 0; o < g.filters; ++o) out[out_cell + o] += bias->data()[o];
      });
  return output;
}

template <typename Real>
BasicTensor<Real> convolution_backward(const BasicTensor<Real>& x, const BasicTensor<Real>& kernel,
                                       const BasicTensor<Real>& d_y, const Convolution& conv,
                                       BasicTensor<Real>& d_kernel, BasicTensor<Real>* d_bias) {
  const Geometry g = geometry(x, kernel, conv);
  BasicTensor<Real> d_inputs(x.shape());  // zeros
  const Real* in = x.data();
  const Real* k = kernel.data();
  Real* d_in = d_inputs.data();
  Real* d_k = d_kernel.data();
  for_each_tap(
      g,
      [&](int64_t out_cell, int64_t in_cell, int64_t tap) {
        const Real* dy = d_y.data() + out_cell;
        for (int64_t group = 0; group < g.groups; ++group) {
          for (int64_t c = 0; c < g.group_channels; ++c) {
            // y_group[o] += value * k_row[o]
            const int64_t k_offset = tap + c * g.filters + group * g.group_filters;
            const Real* dy_group = dy + group * g.group_filters;
            const int64_t x_offset = in_cell + group * g.group_channels + c;
            const Real value = in[x_offset];
            Real d_value = 0;
            for (int64_t o = 0; o < g.group_filters; ++o) {
              d_value += dy_group[o] * k[k_offset + o];
              d_k[k_offset + o] += value * dy_group[o];
            }
            d_in[x_offset] += d_value;
          }
        }
      },
      [&](int64_t out_cell) {
        // y[o] += bias[o]
        if (d_bias == nullptr) return;
        for (int64_t o = 0; o < g.filters; ++o) d_bias->data()[o] += d_y.data()[out_cell + o];
      });
  return d_inputs;
}

#define KATTN_INSTANTIATE_CONVOLUTION(Real)                                                        \
  template BasicTensor<Real> convolution<Real>(const BasicTensor<Real>&, const BasicTensor<Real>&, \
                                               const BasicTensor<Real>*, const Convolution&);      \
  template BasicTensor<Real> convolution_backward<Real>(                                           \
      const BasicTensor<Real>&, const BasicTensor<Real>&, const BasicTensor<Real>&,                \
      const Convolution&, BasicTensor<Real>&, BasicTensor<Real>*);
KATTN_INSTANTIATE_CONVOLUTION(float)
KATTN_INSTANTIATE_CONVOLUTION(double)
#undef KATTN_INSTANTIATE_CONVOLUTION

}  // namespace kattn::ops
