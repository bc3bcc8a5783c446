// The packed product of kernels/gemm/packed_gemm.hpp, written once over a vector type V of
// kWidth floats (kernels/<isa>/vec*.hpp). Included only by the kernels/<isa>/packed_gemm.cpp
// files; every function is a member of PackedGemm<V>.
#pragma once

#include <cstdint>

#include "kernels/gemm/packed_gemm.hpp"
#include "kernels/register_block.hpp"

namespace kattn::kernels {

template <typename V>
struct PackedGemm {
  using T = PackedGemmTiles;
  using Registers = RegisterBlock<V>;
  static constexpr int64_t kPanel = T::kPanel;
  static constexpr int64_t kOutCols = T::kPanelsPerItem * kPanel;

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }

  // out[r0 + r, panel's 16 columns] (= or +=) A[r0 + r, k block] . B[k block, panel] for
  // r < rows, in blocks of up to 6 rows read in place, as even as the rows allow (32 rows as
  // 6 6 5 5 5 5, not 6 6 6 6 6 2: a block of few rows waits on its FMAs' latency).
  template <bool kAccumulate>
  static void panel_product(const PackedGemmParams& p, int64_t r0, int64_t rows, int64_t block,
                            int64_t panel, float* out) {
    const int64_t k0 = block * T::kDepth, depth = min(T::kDepth, p.b->rows() - k0);
    const float* b = p.b->panel(block, panel);
    const int64_t blocks = (rows + Registers::kMaxRows - 1) / Registers::kMaxRows;
    for (int64_t i = 0, r = 0; i < blocks; ++i) {
      const int64_t height = rows / blocks + (i < rows % blocks ? 1 : 0);
      Registers::template multiply_rows<kAccumulate>(height, p.a + (r0 + r) * p.lda + k0, p.lda, 1,
                                                     b, kPanel, depth, out + r * kOutCols,
                                                     kOutCols);
      r += height;
    }
  }

  // The item's block of C is computed in `workspace`, rows 512 bytes apart (rows of C a
  // multiple of 4 KiB apart would share cache sets with the packed panel), then written out
  // with the bias.
  static void item(const PackedGemmParams& p, int64_t item, float* workspace) {
    const int64_t panels = p.b->panels();
    const int64_t groups = (panels + T::kPanelsPerItem - 1) / T::kPanelsPerItem;
    const int64_t r0 = item / groups * T::kRowBlock, rows = min(p.m, r0 + T::kRowBlock) - r0;
    const int64_t first = item % groups * T::kPanelsPerItem;
    const int64_t last = min(panels, first + T::kPanelsPerItem);
    const int64_t k_blocks = (p.b->rows() + T::kDepth - 1) / T::kDepth;
    float* out = workspace;
    if (k_blocks == 0) {  // K = 0: the empty sum
      for (int64_t i = 0; i < rows * kOutCols; ++i) out[i] = 0.0f;
    }
    for (int64_t block = 0; block < k_blocks; ++block) {
      for (int64_t panel = first; panel < last; ++panel) {
        float* out_panel = out + (panel - first) * kPanel;
        if (block == 0) {
          panel_product<false>(p, r0, rows, block, panel, out_panel);
        } else {
          panel_product<true>(p, r0, rows, block, panel, out_panel);
        }
      }
    }
    // The bias is added after the product, as EinsumDense adds it to the einsum's result.
    const int64_t c0 = first * kPanel, cols = min(p.b->cols(), last * kPanel) - c0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* from = out + r * kOutCols;
      float* to = p.c + (r0 + r) * p.ldc + c0;
      if (p.bias == nullptr) {
        for (int64_t c = 0; c < cols; ++c) to[c] = from[c];
      } else {
        for (int64_t c = 0; c < cols; ++c) to[c] = from[c] + p.bias[c0 + c];
      }
    }
  }
};

}  // namespace kattn::kernels
