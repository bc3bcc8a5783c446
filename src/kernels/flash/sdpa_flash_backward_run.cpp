// Runs the fused backward's three steps over the thread pool, then adds up the weight gradients'
// partial sums in a fixed order.
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "threads/parallel_for.hpp"
#include "threads/thread_buffer.hpp"

namespace kattn::kernels {

namespace {

// weight_grads += the partial sums the steps left in `shared`, item by item.
void add_weight_gradients(const SdpaParams<float>& params, const FlashScoring& scoring,
                          const SdpaFlashBackwardLayout& layout, const float* shared,
                          const FlashScoringGrads& weight_grads) {
  using Score = FlashScoring::Score;
  if (scoring.score == Score::kDot) {
    if (weight_grads.d_scale == nullptr) return;
    const float* partials = shared + layout.scale_partials;
    float sum = 0.0f;
    for (int64_t block = 0; block < sdpa_flash_backward_query_blocks(params); ++block) {
      sum += partials[block];
    }
    *weight_grads.d_scale += sum;
    return;
  }
  // (key items, H + 2): d additive_scale (H,), d concat_scale, d concat_score_weight
  const int64_t H = params.head_dim, cols = layout.weight_cols;
  const float* partials = shared + layout.weight_partials;
  const int64_t items = sdpa_flash_backward_key_items(params);
  const auto add = [&](float* to, int64_t col) {
    if (to == nullptr) return;
    float sum = 0.0f;
    for (int64_t item = 0; item < items; ++item) sum += partials[item * cols + col];
    *to += sum;
  };
  if (scoring.score == Score::kAdditive) {
    for (int64_t h = 0; h < H && weight_grads.d_scale != nullptr; ++h) {
      add(weight_grads.d_scale + h, h);
    }
  } else {
    add(weight_grads.d_scale, H);
    add(weight_grads.d_concat_score_weight, H + 1);
  }
}

}  // namespace

void sdpa_flash_backward_run(const SdpaParams<float>& params, const FlashScoring& scoring,
                             const SdpaForwardSaved& saved, const SdpaGradParams<float>& grads,
                             const FlashScoringGrads& weight_grads, Isa isa, int64_t threads) {
  auto* prepare = &sdpa_flash_backward_prepare_portable;
  auto* keys = &sdpa_flash_backward_keys_portable;
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (isa == Isa::kAvx2) {
    prepare = &sdpa_flash_backward_prepare_avx2;
    keys = &sdpa_flash_backward_keys_avx2;
  }
#endif
#ifdef KATTN_HAVE_AVX512_KERNELS
  if (isa == Isa::kAvx512) {
    prepare = &sdpa_flash_backward_prepare_avx512;
    keys = &sdpa_flash_backward_keys_avx512;
  }
#endif
  const SdpaFlashBackwardLayout layout = sdpa_flash_backward_layout(params);
  float* shared = detail::thread_buffer<detail::Buffer::kShared>(layout.shared_total);
  const int64_t blocks = sdpa_flash_backward_query_blocks(params);
  const bool accumulate = weight_grads.accumulate;
  detail::parallel_for(blocks, threads, [&](int64_t block) {
    prepare(params, scoring, saved, grads, block, shared,
            detail::thread_buffer<detail::Buffer::kWorkspace>(layout.workspace_total));
  });
  detail::parallel_for(sdpa_flash_backward_key_items(params), threads, [&](int64_t item) {
    keys(params, scoring, grads, accumulate, item, shared,
         detail::thread_buffer<detail::Buffer::kWorkspace>(layout.workspace_total));
  });
  detail::parallel_for(blocks, threads, [&](int64_t block) {
    sdpa_flash_backward_query_grad(params, scoring, grads, accumulate, block, shared);
  });
  add_weight_gradients(params, scoring, layout, shared, weight_grads);
}

}  // namespace kattn::kernels
