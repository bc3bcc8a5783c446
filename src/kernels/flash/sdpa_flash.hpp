// The fused scaled dot-product attention kernel: tiled, online softmax, never materialising the
// (T, S) logits. One kernel written once over a vector type (kernels/flash/sdpa_flash_impl.hpp)
// and instantiated per instruction set (kernels/portable/, kernels/avx2/). Float only; the
// reference kernel (kernels/reference/sdpa.hpp) is the specification it is tested against.
//
// Work is cut into items of one (batch, query head, kBlocksPerItem blocks of kQueryBlock query
// rows), each computed start to finish by one thread, so results do not depend on how items are
// spread over threads. Within an item the keys go by in tiles of kKeyTile, each copied once into
// contiguous rows for all the item's blocks:
//
//   logits^T (keys, queries) = K_tile (keys, H) . (scale * Q_block)^T (H, queries)
//   running max m and sum l per query; P^T = exp(logits^T - m)
//   out (queries, Hv) = out * exp(m_old - m) + P . V_tile (keys, Hv)
//
// with the logits kept transposed so the softmax runs along vector lanes (one lane per query).
// Tiles that every mask rule excludes (above the causal diagonal, outside the sliding window)
// are never computed. When scores are requested, a first pass finds each row's max and sum and
// a second writes the probabilities once and accumulates the output.
//
// FlashScoring makes the same kernel keras.layers.Attention's and AdditiveAttention's: tanh
// scores, computed on the same packed tiles, and their masking, dropout and query-mask rules.
#pragma once

#include <cstdint>

#include "kernels/dispatch.hpp"
#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels {

struct SdpaFlashTiles {
  static constexpr int64_t kQueryBlock = 48;  // query rows per item: 3 panels of 16, 8 groups of 6
  static constexpr int64_t kKeyTile = 128;    // keys per tile
  // Query blocks per item, sharing each copy of a key and value tile: the copies read rows
  // from far apart, and with 4 blocks they still took a tenth of the time (8: 0.90 of the
  // 4-block time at 1x8x2048x64 on one thread).
  static constexpr int64_t kBlocksPerItem = 8;
};

// How a logit is computed and masked. The defaults are scaled_dot_product_attention's; the
// rest is what keras.layers.Attention and AdditiveAttention do (kernels/reference/dense_*.cpp),
// with N = K = 1.
struct FlashScoring {
  enum class Score {
    kDot,       // scale * sum_h q_h k_h   (params.scale)
    kAdditive,  // sum_h additive_scale_h * tanh(q_h + k_h)
    kConcat,    // concat_score_weight * sum_h tanh(concat_scale * (q_h + k_h))
  };
  Score score = Score::kDot;
  const float* additive_scale = nullptr;  // (H,), or null for 1
  const float* concat_scale = nullptr;    // (), or null for none
  float concat_score_weight = 1.0f;
  // Keras's dense-attention masking: a masked logit becomes float32(logit) - 1e9 rather than
  // -inf, so no tile is skipped and no row is ever fully masked.
  bool subtract_1e9 = false;
  // Scores returned after dropout (keras.layers.Attention) rather than before.
  bool scores_after_dropout = false;
  // (B, T): output rows whose entry is false are multiplied by 0; null for none.
  const bool* query_mask = nullptr;
  // (B, N, T), or null: where given, params.logsumexp receives each row's log(sum) and this its
  // max, whose sum would round the log away where every logit is near -1e9 (float32's spacing
  // there is 64).
  float* row_max = nullptr;
};

// Writes output row (b, i, n) and its score row (when params.scores is set) for a query that may
// attend no key, as params.fully_masked_rows says: zeros (kZero), or probabilities 1 / S with
// dropout applied and the matching average of the values (kUniform). Plain C++, shared by the
// fused kernels of every ISA; such rows are rare.
void sdpa_fully_masked_row(const SdpaParams<float>& params, int64_t b, int64_t n,
                           int64_t i) noexcept;

// A row's log-sum-exp from its running max and sum, max + log(sum); -inf when the row attends no
// key (max -inf). Out of line, so the per-ISA files need no inline math of the standard library.
float sdpa_row_logsumexp(float row_max, float row_sum) noexcept;

// Items of work for params: B * N * ceil(T / (kQueryBlock * kBlocksPerItem)), largest (latest
// query blocks) first.
int64_t sdpa_flash_items(const SdpaParams<float>& params);

// Floats of workspace one thread needs for any item of params.
int64_t sdpa_flash_workspace_size(const SdpaParams<float>& params);

// Computes item `item` of params (its output rows, and its score rows when params.scores is
// set) using `workspace`, sdpa_flash_workspace_size(params) floats owned by the calling thread.
void sdpa_flash_forward_portable(const SdpaParams<float>& params, const FlashScoring& scoring,
                                 int64_t item, float* workspace) noexcept;
// The same with AVX2 + FMA, and with AVX-512F; call only when the CPU has them.
void sdpa_flash_forward_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                             int64_t item, float* workspace) noexcept;
void sdpa_flash_forward_avx512(const SdpaParams<float>& params, const FlashScoring& scoring,
                               int64_t item, float* workspace) noexcept;

// Every item of params on `threads` threads with the kernel of `isa` (a fused one),
// each thread in a workspace of its own kept between calls.
void sdpa_flash_run(const SdpaParams<float>& params, const FlashScoring& scoring, Isa isa,
                    int64_t threads);

}  // namespace kattn::kernels
