// The fused attention backward for AVX-512F (compiled with -mavx512f -mavx2 -mfma -mf16c; see
// kernels/avx512/sdpa_flash.cpp).
#include "kernels/avx512/vec16.hpp"
#include "kernels/flash/sdpa_flash_backward_impl.hpp"

namespace kattn::kernels {

void sdpa_flash_backward_prepare_avx512(const SdpaParams<float>& params,
                                        const FlashScoring& scoring, const SdpaForwardSaved& saved,
                                        const SdpaGradParams<float>& grads, int64_t block,
                                        float* shared, float* workspace) noexcept {
  SdpaFlashBackward<avx512::Vec16>::prepare(params, scoring, saved, grads, block, shared,
                                            workspace);
}

void sdpa_flash_backward_keys_avx512(const SdpaParams<float>& params, const FlashScoring& scoring,
                                     const SdpaGradParams<float>& grads, bool accumulate,
                                     int64_t item, float* shared, float* workspace) noexcept {
  SdpaFlashBackward<avx512::Vec16>::keys(params, scoring, grads, accumulate, item, shared,
                                         workspace);
}

}  // namespace kattn::kernels
