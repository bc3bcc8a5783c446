// The ISA-independent part of the fused kernel: how big its items and workspace are, and a
// row's log-sum-exp.
#include <cmath>
#include <limits>

#include "kernels/flash/sdpa_flash.hpp"
#include "kernels/flash/sdpa_flash_layout.hpp"

namespace kattn::kernels {

namespace {

// Rounded up to a multiple of 16 floats, so every buffer starts 64-byte aligned relative to
// the workspace.
int64_t cache_lines(int64_t floats) { return (floats + 15) / 16 * 16; }

}  // namespace

SdpaFlashLayout sdpa_flash_layout(const SdpaParams<float>& p) {
  using L = SdpaFlashLayout;
  L layout;
  layout.query_blocks = (p.query_len + L::kBr - 1) / L::kBr;
  layout.groups = (layout.query_blocks + L::kGroup - 1) / L::kGroup;
  layout.value_cols = (p.value_dim + L::kPanel - 1) / L::kPanel * L::kPanel;
  layout.query_packed_stride = cache_lines(L::kBr * p.head_dim);
  layout.out_stride = cache_lines(L::kBr * layout.value_cols);
  layout.query_packed = 0;
  layout.tile = layout.query_packed + L::kGroup * layout.query_packed_stride;
  layout.out = layout.tile + L::kBc * L::kBr;
  layout.key_packed = layout.out + L::kGroup * layout.out_stride;
  layout.value_packed = layout.key_packed + cache_lines(L::kBc * p.head_dim);
  layout.row_max = layout.value_packed + L::kBc * layout.value_cols;
  layout.row_sum = layout.row_max + L::kGroup * L::kBr;
  layout.rescale = layout.row_sum + L::kGroup * L::kBr;
  layout.tile_max = layout.rescale + L::kGroup * L::kBr;
  layout.total = layout.tile_max + L::kBr;
  return layout;
}

float sdpa_row_logsumexp(float row_max, float row_sum) noexcept {
  if (row_max == -std::numeric_limits<float>::infinity()) return row_max;
  return row_max + std::log(row_sum);
}

int64_t sdpa_flash_items(const SdpaParams<float>& params) {
  return params.batch * params.num_heads * sdpa_flash_layout(params).groups;
}

int64_t sdpa_flash_workspace_size(const SdpaParams<float>& params) {
  return sdpa_flash_layout(params).total;
}

}  // namespace kattn::kernels
