// The fused attention backward for AVX2 + FMA (compiled with -mavx2 -mfma -mf16c; see
// kernels/avx2/sdpa_flash.cpp).
#include "kernels/avx2/vec8.hpp"
#include "kernels/flash/sdpa_flash_backward_impl.hpp"

namespace kattn::kernels {

void sdpa_flash_backward_prepare_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                                      const SdpaForwardSaved& saved,
                                      const SdpaGradParams<float>& grads, int64_t block,
                                      float* shared, float* workspace) noexcept {
  SdpaFlashBackward<avx2::Vec8>::prepare(params, scoring, saved, grads, block, shared, workspace);
}

void sdpa_flash_backward_keys_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                                   const SdpaGradParams<float>& grads, bool accumulate,
                                   int64_t item, float* shared, float* workspace) noexcept {
  SdpaFlashBackward<avx2::Vec8>::keys(params, scoring, grads, accumulate, item, shared, workspace);
}

}  // namespace kattn::kernels
