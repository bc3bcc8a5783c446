// The fused attention kernel for AVX-512F. This file alone is compiled with -mavx512f -mavx2
// -mfma -mf16c (src/CMakeLists.txt); it runs only after kernels/dispatch.cpp has found AVX-512F.
#include "kernels/avx512/vec16.hpp"
#include "kernels/flash/sdpa_flash_impl.hpp"

namespace kattn::kernels {

void sdpa_flash_forward_avx512(const SdpaParams<float>& params, const FlashScoring& scoring,
                               int64_t item, float* workspace) noexcept {
  SdpaFlash<avx512::Vec16>::forward(params, scoring, item, workspace);
}

}  // namespace kattn::kernels
