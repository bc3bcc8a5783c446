// The ISA-independent part of the packed product: packing B, cutting the work into items.
#include "kernels/gemm/packed_gemm.hpp"

#include <algorithm>

#include "kernels/dispatch.hpp"
#include "threads/parallel_for.hpp"
#include "threads/thread_buffer.hpp"

namespace kattn::kernels {

namespace {

using T = PackedGemmTiles;

int64_t blocks(int64_t rows) { return (rows + T::kDepth - 1) / T::kDepth; }

}  // namespace

PackedMatrix::PackedMatrix(const float* b, int64_t rows, int64_t cols)
    : rows_(rows), cols_(cols), data_(static_cast<size_t>(rows * panels() * T::kPanel), 0.0f) {
  for (int64_t block = 0; block < blocks(rows_); ++block) {
    const int64_t k0 = block * T::kDepth, depth = std::min(T::kDepth, rows_ - k0);
    for (int64_t p = 0; p < panels(); ++p) {
      float* to = data_.data() + (panel(block, p) - data_.data());
      const int64_t c0 = p * T::kPanel, width = std::min(T::kPanel, cols_ - c0);
      for (int64_t k = 0; k < depth; ++k) {
        std::copy_n(b + (k0 + k) * cols_ + c0, width, to + k * T::kPanel);
      }
    }
  }
}

const float* PackedMatrix::panel(int64_t block, int64_t panel) const {
  // Every block before `block` is a full kDepth deep.
  const int64_t depth = std::min(T::kDepth, rows_ - block * T::kDepth);
  return data_.data() + (block * T::kDepth * panels() + panel * depth) * T::kPanel;
}

int64_t packed_gemm_items(const PackedGemmParams& params) {
  const int64_t row_blocks = (params.m + T::kRowBlock - 1) / T::kRowBlock;
  const int64_t panel_groups = (params.b->panels() + T::kPanelsPerItem - 1) / T::kPanelsPerItem;
  return row_blocks * panel_groups;
}

bool packed_gemm_available() {
  const Isa isa = active_isa();
  return isa == Isa::kAvx2 || isa == Isa::kAvx512;
}

void packed_gemm_run(const PackedGemmParams& params, int64_t threads) {
  void (*item_kernel)(const PackedGemmParams&, int64_t, float*) noexcept = nullptr;
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (active_isa() == Isa::kAvx2) item_kernel = &packed_gemm_avx2;
#endif
#ifdef KATTN_HAVE_AVX512_KERNELS
  if (active_isa() == Isa::kAvx512) item_kernel = &packed_gemm_avx512;
#endif
  if (item_kernel == nullptr) return;  // not available: callers check first
  detail::parallel_for(packed_gemm_items(params), threads, [&](int64_t item) {
    item_kernel(params, item, detail::thread_buffer<detail::Buffer::kGemm>(kPackedGemmWorkspace));
  });
}

}  // namespace kattn::kernels
