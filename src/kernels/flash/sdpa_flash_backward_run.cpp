// Runs the fused backward's three steps over the thread pool.
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "threads/parallel_for.hpp"
#include "threads/thread_buffer.hpp"

namespace kattn::kernels {

void sdpa_flash_backward_run(const SdpaParams<float>& params, const SdpaForwardSaved& saved,
                             const SdpaGradParams<float>& grads, Isa isa, int64_t threads) {
  auto* prepare = &sdpa_flash_backward_prepare_portable;
  auto* keys = &sdpa_flash_backward_keys_portable;
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (isa == Isa::kAvx2) {
    prepare = &sdpa_flash_backward_prepare_avx2;
    keys = &sdpa_flash_backward_keys_avx2;
  }
#endif
  const SdpaFlashBackwardLayout layout = sdpa_flash_backward_layout(params);
  float* shared = detail::thread_buffer<detail::Buffer::kShared>(layout.shared_total);
  const int64_t blocks = sdpa_flash_backward_query_blocks(params);
  detail::parallel_for(blocks, threads, [&](int64_t block) {
    prepare(params, saved, grads, block, shared,
            detail::thread_buffer<detail::Buffer::kWorkspace>(layout.workspace_total));
  });
  detail::parallel_for(sdpa_flash_backward_key_items(params), threads, [&](int64_t item) {
    keys(params, grads, item, shared,
         detail::thread_buffer<detail::Buffer::kWorkspace>(layout.workspace_total));
  });
  detail::parallel_for(blocks, threads, [&](int64_t block) {
    sdpa_flash_backward_query_grad(params, grads, block, shared);
  });
}

}  // namespace kattn::kernels
