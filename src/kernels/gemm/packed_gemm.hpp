// The projections' matrix product with the weights packed once: C = A B (+ bias), B packed
// into the order the register block reads it (kernels/register_block.hpp), so each call reads
// it straight through. AVX2 + FMA only (kernels/avx2/packed_gemm.cpp, over
// kernels/gemm/packed_gemm_impl.hpp): elsewhere OpenBLAS's own kernels are the faster portable
// path (ops/einsum_dense.cpp), and they are what this one is tested against.
//
//   A (M, K) rows lda apart, B (K, N) row-major, bias (N,) or null, C (M, N) rows ldc apart
//
// Work is cut into items of kRowBlock rows by kPanelsPerItem panels of 16 columns, each
// computed start to finish by one thread, every element summed in order of k: the result does
// not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

namespace kattn::kernels {

struct PackedGemmTiles {
  static constexpr int64_t kDepth = 256;    // k per block: one B panel is 16 KiB, in L1
  static constexpr int64_t kPanel = 16;     // columns per panel
  static constexpr int64_t kRowBlock = 96;  // rows per item
  // Panels per item: the item's block of C (96 x 128 floats) stays in L2.
  static constexpr int64_t kPanelsPerItem = 8;
};

// B (K, N) as [k block][panel][k in block][16], columns past N zero.
class PackedMatrix {
 public:
  PackedMatrix(const float* b, int64_t rows, int64_t cols);  // b: (rows, cols) row-major

  int64_t rows() const { return rows_; }  // K
  int64_t cols() const { return cols_; }  // N
  int64_t panels() const { return (cols_ + PackedGemmTiles::kPanel - 1) / PackedGemmTiles::kPanel; }
  // Panel `panel` of k block `block`: (depth of the block, 16).
  const float* panel(int64_t block, int64_t panel) const;

 private:
  int64_t rows_, cols_;
  std::vector<float> data_;
};

struct PackedGemmParams {
  int64_t m = 0;
  const float* a = nullptr;  // (M, K)
  int64_t lda = 0;
  const PackedMatrix* b = nullptr;
  const float* bias = nullptr;  // (N,) or null
  float* c = nullptr;           // (M, N)
  int64_t ldc = 0;
};

int64_t packed_gemm_items(const PackedGemmParams& params);

// Floats of workspace one thread needs: an item's block of C.
constexpr int64_t kPackedGemmWorkspace =
    PackedGemmTiles::kRowBlock * PackedGemmTiles::kPanelsPerItem * PackedGemmTiles::kPanel;

// Whether packed_gemm_run can run with the active instruction set (kernels/dispatch.hpp): avx2
// or avx512.
bool packed_gemm_available();

// Computes item `item` of params using `workspace`, kPackedGemmWorkspace floats owned by the
// calling thread, with AVX2 + FMA or AVX-512F; call only on a CPU that has it.
void packed_gemm_avx2(const PackedGemmParams& params, int64_t item, float* workspace) noexcept;
void packed_gemm_avx512(const PackedGemmParams& params, int64_t item, float* workspace) noexcept;

// Every item on `threads` threads with the active instruction set's kernel; only when
// packed_gemm_available().
void packed_gemm_run(const PackedGemmParams& params, int64_t threads);

}  // namespace kattn::kernels
