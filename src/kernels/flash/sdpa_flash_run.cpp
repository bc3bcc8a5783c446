// Runs the fused kernel's items over the thread pool.
#include "kernels/flash/sdpa_flash.hpp"
#include "threads/parallel_for.hpp"
#include "threads/thread_buffer.hpp"

namespace kattn::kernels {

void sdpa_flash_run(const SdpaParams<float>& params, const FlashScoring& scoring, Isa isa,
                    int64_t threads) {
  auto* kernel = &sdpa_flash_forward_portable;
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (isa == Isa::kAvx2) kernel = &sdpa_flash_forward_avx2;
#endif
#ifdef KATTN_HAVE_AVX512_KERNELS
  if (isa == Isa::kAvx512) kernel = &sdpa_flash_forward_avx512;
#endif
  const int64_t floats = sdpa_flash_workspace_size(params);
  detail::parallel_for(sdpa_flash_items(params), threads, [&](int64_t item) {
    kernel(params, scoring, item, detail::thread_buffer<detail::Buffer::kWorkspace>(floats));
  });
}

}  // namespace kattn::kernels
