// The ISA-independent parts of the fused backward: how its work is split, where its buffers lie,
// and step 3, which adds the partial query gradients up.
#include <algorithm>

#include "kernels/flash/sdpa_flash_backward.hpp"

namespace kattn::kernels {

namespace {

// Rounded up to a multiple of 16 floats, so every buffer starts 64-byte aligned relative to the
// start of its allocation.
int64_t cache_lines(int64_t floats) { return (floats + 15) / 16 * 16; }

int64_t panels(int64_t cols) { return (cols + 15) / 16 * 16; }

}  // namespace

SdpaFlashBackwardLayout sdpa_flash_backward_layout(const SdpaParams<float>& p) {
  using L = SdpaFlashBackwardLayout;
  using Tiles = SdpaFlashBackwardTiles;
  L layout;
  layout.query_blocks = (p.query_len + L::kBr - 1) / L::kBr;
  layout.key_blocks = (p.key_len + L::kBc - 1) / L::kBc;
  const int64_t pairs = p.batch * p.num_kv_heads;
  const int64_t wanted = pairs == 0 ? 1 : (Tiles::kMinItems + pairs - 1) / pairs;
  layout.chunks = std::max<int64_t>(1, std::min({wanted, Tiles::kMaxChunks, layout.key_blocks}));
  layout.head_cols = panels(p.head_dim);
  layout.value_cols = panels(p.value_dim);
  const int64_t H = p.head_dim, Hv = p.value_dim;

  layout.query_t = 0;
  layout.query = layout.query_t + cache_lines(L::kBr * H);
  layout.d_output_t = layout.query + L::kBr * layout.head_cols;
  layout.d_output = layout.d_output_t + cache_lines(L::kBr * Hv);
  layout.logsumexp = layout.d_output + L::kBr * layout.value_cols;
  layout.row_max = layout.logsumexp + cache_lines(L::kBr);
  layout.row_dot = layout.row_max + cache_lines(L::kBr);
  layout.block_stride = layout.row_dot + cache_lines(L::kBr);
  const int64_t blocks = p.batch * p.num_heads * layout.query_blocks;
  layout.partial_d_query = blocks * layout.block_stride;
  layout.weight_partials =
      layout.partial_d_query + layout.chunks * blocks * L::kBr * layout.head_cols;
  layout.weight_cols = H + 2;
  layout.scale_partials =
      layout.weight_partials + p.batch * p.num_kv_heads * layout.chunks * layout.weight_cols;
  layout.shared_total = layout.scale_partials + blocks;

  layout.key_rows = 0;
  layout.key_panels = layout.key_rows + cache_lines(L::kBc * H);
  layout.value_rows = layout.key_panels + L::kBc * layout.head_cols;
  layout.probs = layout.value_rows + cache_lines(L::kBc * Hv);
  layout.d_scores = layout.probs + L::kBc * L::kBr;
  layout.d_key = layout.d_scores + L::kBc * L::kBr;
  layout.d_value = layout.d_key + L::kBc * layout.head_cols;
  layout.weight_sums = layout.d_value + L::kBc * layout.value_cols;
  layout.output_t = 0;  // step 1 only: shares the space of step 2's buffers
  layout.workspace_total =
      std::max(layout.weight_sums + layout.weight_cols * L::kMaxLanes, cache_lines(L::kBr * Hv));
  return layout;
}

int64_t sdpa_flash_backward_query_blocks(const SdpaParams<float>& p) {
  return p.batch * p.num_heads * sdpa_flash_backward_layout(p).query_blocks;
}

int64_t sdpa_flash_backward_key_items(const SdpaParams<float>& p) {
  return p.batch * p.num_kv_heads * sdpa_flash_backward_layout(p).chunks;
}

void sdpa_flash_backward_query_grad(const SdpaParams<float>& p, const FlashScoring& s,
                                    const SdpaGradParams<float>& g, bool accumulate, int64_t block,
                                    float* shared) noexcept {
  using L = SdpaFlashBackwardLayout;
  const L layout = sdpa_flash_backward_layout(p);
  const int64_t bn = block / layout.query_blocks, qb = block % layout.query_blocks;
  const int64_t b = bn / p.num_heads, n = bn % p.num_heads;
  const int64_t q0 = qb * L::kBr, rows = std::min(L::kBr, p.query_len - q0);
  const int64_t H = p.head_dim, cols = layout.head_cols;
  const int64_t chunk_stride = p.batch * p.num_heads * layout.query_blocks * L::kBr * cols;
  const float* first = shared + layout.partial_d_query + block * L::kBr * cols;
  // The tanh scorers' partials are transposed, (kBr / 16, H, 16).
  const bool transposed = s.score != FlashScoring::Score::kDot;
  const float scale = transposed ? 1.0f : p.scale;
  const auto at = [&](int64_t q, int64_t h) {
    return transposed ? (q / L::kPanel * H + h) * L::kPanel + q % L::kPanel : q * cols + h;
  };
  // d scale = sum_q Q[q] . dQ[q] / scale, the dot scorer's logit being scale * Q . K
  const int64_t* qs = p.query_strides;
  const float* query = p.query + b * qs[0] + q0 * qs[1] + n * qs[2];
  float d_scale = 0.0f;
  for (int64_t q = 0; q < rows; ++q) {
    // d_query[b, q0 + q, n, :] (contiguous, (B, T, N, H))
    float* out = g.d_query + ((b * p.query_len + q0 + q) * p.num_heads + n) * H;
    for (int64_t h = 0; h < H; ++h) {
      float sum = first[at(q, h)];
      for (int64_t c = 1; c < layout.chunks; ++c) sum += first[c * chunk_stride + at(q, h)];
      out[h] = accumulate ? out[h] + scale * sum : scale * sum;
      d_scale += query[q * qs[1] + h * qs[3]] * sum;
    }
  }
  shared[layout.scale_partials + block] = d_scale;
}

}  // namespace kattn::kernels
