// The fused backward of scaled dot-product attention (FlashAttention-2's algorithm): the (T, S)
// probabilities are never materialised but recomputed tile by tile from Q, K, the masks and the
// forward's per-row log-sum-exp. Written once over a vector type
// (kernels/flash/sdpa_flash_backward_impl.hpp) and instantiated per instruction set
// (kernels/portable/, kernels/avx2/). Float only; the reference backward
// (kernels/reference/sdpa_backward.cpp) is the specification it is tested against.
//
// Three steps, each parallel over items that own everything they write, so the result is the
// same for every thread count:
//
//  1. prepare, one item per (batch, query head, block of kQueryBlock query rows): packs the
//     block's scale * Q transposed (the logits' right-hand side) and Q as it is (dK's), dO
//     transposed (dP's) and as it is (dV's), each row's log-sum-exp (+inf for a row that may
//     attend no key, whose probabilities then come out as exp(-inf) = 0) and
//     D = rowsum(dO * O); zeroes the block's rows of every partial dQ.
//  2. keys, one item per (batch, key/value head, chunk of key blocks of kKeyBlock keys): for each
//     key block of the chunk, for each query head of the group and each query block the causal
//     and sliding-window rules let reach the key block:
//        logits^T (keys, queries) = K (keys, H) . (scale Q)^T (H, queries), masked
//        P^T = exp(logits^T - logsumexp)
//        dV (keys, Hv) += dropout(P)^T . dO (queries, Hv)
//        dP^T (keys, queries) = dropout(V (keys, Hv) . dO^T (Hv, queries))
//        dS^T = P^T * (dP^T - D)                                  (the softmax's backward)
//        dK (keys, H) += dS^T . Q (queries, H)                    (times scale when written)
//        dQ_chunk (queries, H) += dS . K (keys, H)
//     with the probabilities kept transposed, one query per vector lane, as the forward keeps
//     them. The key block's dK and dV belong to this item alone; each chunk's dQ is a partial
//     sum of its own. Under kUniform a row that may attend no key adds 1 / S of its dO
//     (dropped as the forward dropped it) to every value's gradient and nothing else.
//  3. query gradient, one item per (batch, query head, query block):
//        dQ = scale * (dQ_0 + dQ_1 + ...), the chunks added in order.
//
// Key block kb belongs to chunk kb % chunks, so under a causal mask every chunk gets long and
// short key blocks alike. The number of chunks depends on the problem alone (never on the thread
// count): enough for kMinItems items, at most kMaxChunks partial copies of dQ.
//
// FlashScoring makes it the backward of keras.layers.Attention and AdditiveAttention, as it makes
// the forward theirs: the logits come from the forward's own code (SdpaFlash::logits_tile, Keras's
// `logit - 1e9` masking included), a query-masked row passes no gradient (its shift is +inf),
// and the tanh scorers replace step 2's dK and dQ products with a second pass over the tile,
// tanh recomputed rather than kept (no (T, S, H) buffer):
//        u = dS * w (1 - t^2),  t = tanh(c (q_h + k_h))  (concat; w = additive_scale_h, c = 1)
//        dQ^T_chunk (H, queries) += sum_j c u,  dK (keys, H) += sum_q c u
//        d additive_scale_h += dS t,  d concat_scale += u (q_h + k_h),  d weight += dS t
// The weight gradients are partial sums per step-2 item (dot's scale: per step-3 block, as
// Q . dQ / scale), added up in item order after the steps.
#pragma once

#include <cstdint>

#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_flash.hpp"
#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels {

// 48 x 192 and 96 x 96 blocks ran within the noise of 48 x 96 at 1x8x2048x64 on one thread; the
// smallest keeps the two (keys, queries) tiles at 18 KiB each.
struct SdpaFlashBackwardTiles {
  static constexpr int64_t kQueryBlock = 48;  // query rows per block: 3 panels of 16, 8 groups of 6
  static constexpr int64_t kKeyBlock = 96;    // keys per block: 16 groups of 6
  // Step-2 items to aim for, so that the cores share even a single (batch, head)...
  static constexpr int64_t kMinItems = 16;
  // ...with at most this many partial copies of dQ (each B * N * T * H floats).
  static constexpr int64_t kMaxChunks = 4;
};

// What the backward reads of the forward call besides its inputs.
struct SdpaForwardSaved {
  const float* output = nullptr;  // (B, T, N, Hv)
  int64_t output_strides[4] = {};
  // (B, N, T) contiguous: each row's log-sum-exp over the keys it may attend. Rows that attend
  // none are found from the masks, whatever they hold here.
  const float* logsumexp = nullptr;
  // (B, N, T) contiguous, or null (0): with it, logsumexp holds log(sum) alone, relative to this
  // max (FlashScoring::row_max).
  const float* row_max = nullptr;
};

// The gradients of FlashScoring's weights, added into (+=), null for none; and whether the input
// gradients are added into (the dense layers' backward) rather than written.
struct FlashScoringGrads {
  float* d_scale = nullptr;  // kDot: params.scale's (); kConcat: concat_scale's (); kAdditive: (H,)
  float* d_concat_score_weight = nullptr;  // ()
  bool accumulate = false;
};

// Where the steps keep what they share, in floats from the start of the shared buffer (one per
// call) and of each thread's workspace. A plain struct computed out of line
// (sdpa_flash_backward_plan.cpp).
struct SdpaFlashBackwardLayout {
  static constexpr int64_t kBr = SdpaFlashBackwardTiles::kQueryBlock;
  static constexpr int64_t kBc = SdpaFlashBackwardTiles::kKeyBlock;
  static constexpr int64_t kPanel = 16;
  static constexpr int64_t kMaxLanes = 16;  // lanes of the widest vector type (AVX-512)

  int64_t query_blocks = 0;  // ceil(T / kBr)
  int64_t key_blocks = 0;    // ceil(S / kBc)
  int64_t chunks = 0;        // partial sums of dQ, >= 1
  int64_t head_cols = 0;     // H rounded up to whole panels
  int64_t value_cols = 0;    // Hv rounded up to whole panels

  // Shared, per query block (b, n, qb), at block_stride * ((b * N + n) * query_blocks + qb):
  int64_t query_t = 0;     // (kBr / 16, H, 16): scale * Q transposed, 16 queries a panel
  int64_t query = 0;       // (head_cols / 16, kBr, 16): Q by column panels
  int64_t d_output_t = 0;  // (kBr / 16, Hv, 16): dO transposed
  int64_t d_output = 0;    // (value_cols / 16, kBr, 16): dO by column panels
  int64_t logsumexp = 0;   // (kBr,): +inf for rows past T and rows that attend no key
  int64_t row_max = 0;     // (kBr,): the max logsumexp is relative to, or 0
  int64_t row_dot = 0;     // (kBr,): D = sum_h dO * O, 0 past T
  int64_t block_stride = 0;
  // Shared after every block: (chunks, B * N * query_blocks, kBr, head_cols), the partial dQ;
  // for the tanh scorers each block's (kBr, head_cols) holds (kBr / 16, H, 16), dQ transposed.
  int64_t partial_d_query = 0;
  // (key items, weight_cols): each step-2 item's sums of the tanh scorers' weight gradients.
  int64_t weight_partials = 0;
  int64_t weight_cols = 0;  // H + 2: d additive_scale (H,), or d concat_scale, d weight
  // (B * N * query_blocks,): each step-3 block's Q . dQ / scale, the dot scale's gradient.
  int64_t scale_partials = 0;
  int64_t shared_total = 0;

  // Per thread, in step 1:
  int64_t output_t = 0;  // (kBr / 16, Hv, 16): the forward output transposed, for D
  // Per thread, in step 2, for one key block:
  int64_t key_rows = 0;     // (kBc, H): the logits' left-hand side
  int64_t key_panels = 0;   // (head_cols / 16, kBc, 16): dQ's right-hand side
  int64_t value_rows = 0;   // (kBc, Hv): dP's left-hand side
  int64_t probs = 0;        // (kBc, kBr): logits, then P^T, then dropout(P)^T
  int64_t d_scores = 0;     // (kBc, kBr): dP^T, then dS^T
  int64_t d_key = 0;        // (kBc, head_cols)
  int64_t d_value = 0;      // (kBc, value_cols)
  int64_t weight_sums = 0;  // (weight_cols, kMaxLanes): the item's weight gradients, by lane
  int64_t workspace_total = 0;
};

SdpaFlashBackwardLayout sdpa_flash_backward_layout(const SdpaParams<float>& params);

// Items of steps 1 and 3 (B * N * query blocks) and of step 2 (B * K * chunks).
int64_t sdpa_flash_backward_query_blocks(const SdpaParams<float>& params);
int64_t sdpa_flash_backward_key_items(const SdpaParams<float>& params);

// Step 1 for query block `block` of params, into `shared` (layout.shared_total floats), using
// `workspace` (layout.workspace_total floats) owned by the calling thread.
void sdpa_flash_backward_prepare_portable(const SdpaParams<float>& params,
                                          const FlashScoring& scoring,
                                          const SdpaForwardSaved& saved,
                                          const SdpaGradParams<float>& grads, int64_t block,
                                          float* shared, float* workspace) noexcept;
void sdpa_flash_backward_prepare_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                                      const SdpaForwardSaved& saved,
                                      const SdpaGradParams<float>& grads, int64_t block,
                                      float* shared, float* workspace) noexcept;
void sdpa_flash_backward_prepare_avx512(const SdpaParams<float>& params,
                                        const FlashScoring& scoring, const SdpaForwardSaved& saved,
                                        const SdpaGradParams<float>& grads, int64_t block,
                                        float* shared, float* workspace) noexcept;

// Step 2 for item `item`: writes (or adds to) its rows of grads.d_key and grads.d_value, adds to
// its chunk's partial dQ and writes its weight partials in `shared`, using `workspace`
// (layout.workspace_total floats) owned by the calling thread.
void sdpa_flash_backward_keys_portable(const SdpaParams<float>& params, const FlashScoring& scoring,
                                       const SdpaGradParams<float>& grads, bool accumulate,
                                       int64_t item, float* shared, float* workspace) noexcept;
void sdpa_flash_backward_keys_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                                   const SdpaGradParams<float>& grads, bool accumulate,
                                   int64_t item, float* shared, float* workspace) noexcept;
void sdpa_flash_backward_keys_avx512(const SdpaParams<float>& params, const FlashScoring& scoring,
                                     const SdpaGradParams<float>& grads, bool accumulate,
                                     int64_t item, float* shared, float* workspace) noexcept;

// Step 3 for query block `block`: writes (or adds to) its rows of grads.d_query and, for the dot
// scorer, its scale partial (plain C++: a sum of a few partials per element).
void sdpa_flash_backward_query_grad(const SdpaParams<float>& params, const FlashScoring& scoring,
                                    const SdpaGradParams<float>& grads, bool accumulate,
                                    int64_t block, float* shared) noexcept;

// Every step on `threads` threads with the kernels of `isa` (a fused one), then the weight
// partials added into weight_grads in a fixed order. The shared buffer belongs to the calling
// thread and each workspace to its thread, kept between calls.
void sdpa_flash_backward_run(const SdpaParams<float>& params, const FlashScoring& scoring,
                             const SdpaForwardSaved& saved, const SdpaGradParams<float>& grads,
                             const FlashScoringGrads& weight_grads, Isa isa, int64_t threads);

}  // namespace kattn::kernels
