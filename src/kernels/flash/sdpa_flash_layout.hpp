// Where an item of the fused kernel keeps what it works on, inside one thread's workspace.
// Offsets and sizes in floats. K and V tiles are copied in: read in place, rows a whole
// (K * H)-float stride apart map onto a few cache sets and evict each other. A plain struct
// computed out of line (sdpa_flash_plan.cpp), so the per-ISA kernel files share no inline code with
// the rest of the library.
#pragma once

#include <cstdint>

#include "kernels/flash/sdpa_flash.hpp"

namespace kattn::kernels {

struct SdpaFlashLayout {
  static constexpr int64_t kBr = SdpaFlashTiles::kQueryBlock;
  static constexpr int64_t kBc = SdpaFlashTiles::kKeyTile;
  static constexpr int64_t kPanel = 16;  // query lanes per packed Q panel, value columns per panel
  static constexpr int64_t kGroup = SdpaFlashTiles::kBlocksPerItem;

  int64_t query_blocks = 0;  // ceil(T / kBr)
  int64_t groups = 0;        // ceil(query_blocks / kGroup): items per (batch, head)
  int64_t value_cols = 0;    // Hv rounded up to whole panels
  int64_t query_packed = 0;  // (kGroup, query_packed_stride): per block (kBr / 16, H, 16)
  int64_t query_packed_stride = 0;
  int64_t tile = 0;  // (kBc, kBr): logits, then probabilities, keys by queries
  int64_t out = 0;   // (kGroup, out_stride): per block (kBr, value_cols)
  int64_t out_stride = 0;
  int64_t key_packed = 0;    // (kBc, H): the tile's keys, rows contiguous
  int64_t value_packed = 0;  // (value_cols / 16, kBc, 16): the tile's values, by panel
  int64_t row_max = 0;       // (kGroup, kBr)
  int64_t row_sum = 0;       // (kGroup, kBr)
  int64_t rescale = 0;       // (kGroup, kBr)
  int64_t tile_max = 0;      // (kBr): each query's largest logit in the tile, when known
  int64_t total = 0;
};

SdpaFlashLayout sdpa_flash_layout(const SdpaParams<float>& params);

}  // namespace kattn::kernels
