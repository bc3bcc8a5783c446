// The fused attention backward in plain C++, for any CPU.
#include "kernels/flash/sdpa_flash_backward_impl.hpp"
#include "kernels/portable/vec16.hpp"

namespace kattn::kernels {

void sdpa_flash_backward_prepare_portable(const SdpaParams<float>& params,
                                          const FlashScoring& scoring,
                                          const SdpaForwardSaved& saved,
                                          const SdpaGradParams<float>& grads, int64_t block,
                                          float* shared, float* workspace) noexcept {
  SdpaFlashBackward<portable::Vec16>::prepare(params, scoring, saved, grads, block, shared,
                                              workspace);
}

void sdpa_flash_backward_keys_portable(const SdpaParams<float>& params, const FlashScoring& scoring,
                                       const SdpaGradParams<float>& grads, bool accumulate,
                                       int64_t item, float* shared, float* workspace) noexcept {
  SdpaFlashBackward<portable::Vec16>::keys(params, scoring, grads, accumulate, item, shared,
                                           workspace);
}

}  // namespace kattn::kernels
