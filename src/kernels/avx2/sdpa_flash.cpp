// The fused attention kernel for AVX2 + FMA. This file alone is compiled with -mavx2 -mfma -mf16c
// (src/CMakeLists.txt); it runs only after kernels/dispatch.cpp has found them on the CPU.
#include "kernels/avx2/vec8.hpp"
#include "kernels/flash/sdpa_flash_impl.hpp"

namespace kattn::kernels {

void sdpa_flash_forward_avx2(const SdpaParams<float>& params, const FlashScoring& scoring,
                             int64_t item, float* workspace) noexcept {
  SdpaFlash<avx2::Vec8>::forward(params, scoring, item, workspace);
}

}  // namespace kattn::kernels
