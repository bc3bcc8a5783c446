// The register-blocked product the fused kernels are built on (attention's two products, the
// packed projections), written once over a vector type V of kWidth floats
// (kernels/<isa>/vec*.hpp: 8 for AVX2, 16 for AVX-512 and the portable kernels). Included only
// by the per-ISA kernel files; a class template on V, so each instruction set's copy has
// symbols of its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kattn::kernels {

template <typename V>
struct RegisterBlock {
  static constexpr int64_t kCols = 16;                    // columns of B per block
  static constexpr int64_t kVectors = kCols / V::kWidth;  // vectors per row of the block
  // Rows of A per block: 12 accumulators, so that enough independent FMAs are in flight (with
  // AVX2's 16 registers: 12 accumulators, 2 of B, 1 of A).
  static constexpr int64_t kMaxRows = 12 / kVectors;

  // For r < R and c < 16:
  //   C[r * c_row_stride + c] (= or +=) sum_k A[r * a_row_stride + k * a_depth_stride] *
  //                                              B[k * b_depth_stride + c]
  // summed in order of k, from 0 (kAccumulate false) or from C's value (true). The loops over r
  // are unrolled before the compiler decides where the accumulators live, which keeps them in
  // registers (GCC otherwise spills them each step). With col_max, also
  // col_max[c] = max(col_max[c], C[r][c] for r < R), the rows' maximum folded in while C is
  // still in registers.
  template <size_t R, bool kAccumulate>
  static void multiply(const float* a, int64_t a_row_stride, int64_t a_depth_stride, const float* b,
                       int64_t b_depth_stride, int64_t depth, float* c, int64_t c_row_stride,
                       float* col_max) {
    V acc[R][static_cast<size_t>(kVectors)];
#pragma GCC unroll 16
    for (size_t r = 0; r < R; ++r) {
      float* row = c + static_cast<int64_t>(r) * c_row_stride;
#pragma GCC unroll 2
      for (int64_t v = 0; v < kVectors; ++v) {
        acc[r][v] = kAccumulate ? V::load(row + v * V::kWidth) : V::zero();
      }
    }
#pragma GCC unroll 8
    for (int64_t k = 0; k < depth; ++k) {
      V columns[static_cast<size_t>(kVectors)];
#pragma GCC unroll 2
      for (int64_t v = 0; v < kVectors; ++v) {
        columns[v] = V::load(b + k * b_depth_stride + v * V::kWidth);
      }
#pragma GCC unroll 16
      for (size_t r = 0; r < R; ++r) {
        const V x = V::broadcast(a + static_cast<int64_t>(r) * a_row_stride + k * a_depth_stride);
#pragma GCC unroll 2
        for (int64_t v = 0; v < kVectors; ++v) acc[r][v] = fma(x, columns[v], acc[r][v]);
      }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < R; ++r) {
      float* row = c + static_cast<int64_t>(r) * c_row_stride;
#pragma GCC unroll 2
      for (int64_t v = 0; v < kVectors; ++v) acc[r][v].store(row + v * V::kWidth);
    }
    if (col_max != nullptr) {
#pragma GCC unroll 2
      for (int64_t v = 0; v < kVectors; ++v) {
        V m = V::load(col_max + v * V::kWidth);
#pragma GCC unroll 16
        for (size_t r = 0; r < R; ++r) m = vmax(m, acc[r][v]);
        m.store(col_max + v * V::kWidth);
      }
    }
  }

  // multiply<rows, kAccumulate> for any rows in [1, kMaxRows].
  template <bool kAccumulate, size_t R = kMaxRows>
  static void multiply_rows(int64_t rows, const float* a, int64_t a_row_stride,
                            int64_t a_depth_stride, const float* b, int64_t b_depth_stride,
                            int64_t depth, float* c, int64_t c_row_stride,
                            float* col_max = nullptr) {
    if constexpr (R > 1) {
      if (rows < static_cast<int64_t>(R)) {
        multiply_rows<kAccumulate, R - 1>(rows, a, a_row_stride, a_depth_stride, b, b_depth_stride,
                                          depth, c, c_row_stride, col_max);
        return;
      }
    }
    multiply<R, kAccumulate>(a, a_row_stride, a_depth_stride, b, b_depth_stride, depth, c,
                             c_row_stride, col_max);
  }
};

}  // namespace kattn::kernels
