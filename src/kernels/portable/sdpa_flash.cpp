// The fused attention kernel in plain C++, for any CPU.
#include "kernels/flash/sdpa_flash_impl.hpp"
#include "kernels/portable/vec16.hpp"

namespace kattn::kernels {

void sdpa_flash_forward_portable(const SdpaParams<float>& params, const FlashScoring& scoring,
                                 int64_t item, float* workspace) noexcept {
  SdpaFlash<portable::Vec16>::forward(params, scoring, item, workspace);
}

}  // namespace kattn::kernels
