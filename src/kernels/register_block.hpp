// The register-blocked product the fused kernels are built on (attention's two products, the
// packed projections), written once over a vector type V of eight floats
// (kernels/<isa>/vec8.hpp). Included only by the per-ISA kernel files; a class template on V,
// so each instruction set's copy has symbols of its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kattn::kernels {

template <typename V>
struct RegisterBlock {
  static constexpr int64_t kMaxRows = 6;  // rows of A per block: 12 accumulators, 2 of B, 1 of A
  static constexpr int64_t kCols = 16;    // columns of B per block: two vectors

  // For r < R and c < 16:
  //   C[r * c_row_stride + c] (= or +=) sum_k A[r * a_row_stride + k * a_depth_stride] *
  //                                              B[k * b_depth_stride + c]
  // summed in order of k, from 0 (kAccumulate false) or from C's value (true). The loops over r
  // are unrolled before the compiler decides where the accumulators live, which keeps them in
  // registers (GCC otherwise spills them each step).
  // With col_max, also col_max[c] = max(col_max[c], C[r][c] for r < R), the rows' maximum
  // folded in while C is still in registers.
  template <size_t R, bool kAccumulate>
  static void multiply(const float* a, int64_t a_row_stride, int64_t a_depth_stride, const float* b,
                       int64_t b_depth_stride, int64_t depth, float* c, int64_t c_row_stride,
                       float* col_max) {
    V acc[R][2];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      float* row = c + static_cast<int64_t>(r) * c_row_stride;
      acc[r][0] = kAccumulate ? V::load(row) : V::zero();
      acc[r][1] = kAccumulate ? V::load(row + 8) : V::zero();
    }
#pragma GCC unroll 8
    for (int64_t k = 0; k < depth; ++k) {
      const V b0 = V::load(b + k * b_depth_stride), b1 = V::load(b + k * b_depth_stride + 8);
#pragma GCC unroll 8
      for (size_t r = 0; r < R; ++r) {
        const V x = V::broadcast(a + static_cast<int64_t>(r) * a_row_stride + k * a_depth_stride);
        acc[r][0] = fma(x, b0, acc[r][0]);
        acc[r][1] = fma(x, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      float* row = c + static_cast<int64_t>(r) * c_row_stride;
      acc[r][0].store(row);
      acc[r][1].store(row + 8);
    }
    if (col_max != nullptr) {
      V m0 = V::load(col_max), m1 = V::load(col_max + 8);
#pragma GCC unroll 8
      for (size_t r = 0; r < R; ++r) {
        m0 = vmax(m0, acc[r][0]);
        m1 = vmax(m1, acc[r][1]);
      }
      m0.store(col_max);
      m1.store(col_max + 8);
    }
  }

  // multiply<rows, kAccumulate> for any rows in [1, kMaxRows].
  template <bool kAccumulate>
  static void multiply_rows(int64_t rows, const float* a, int64_t a_row_stride,
                            int64_t a_depth_stride, const float* b, int64_t b_depth_stride,
                            int64_t depth, float* c, int64_t c_row_stride,
                            float* col_max = nullptr) {
    switch (rows) {
      case 6:
        multiply<6, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
      case 5:
        multiply<5, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
      case 4:
        multiply<4, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
      case 3:
        multiply<3, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
      case 2:
        multiply<2, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
      default:
        multiply<1, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                                 c_row_stride, col_max);
        break;
    }
  }
};

}  // namespace kattn::kernels
