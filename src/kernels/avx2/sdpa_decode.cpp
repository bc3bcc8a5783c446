// The decode kernel's item for AVX2 + FMA + F16C (compiled with -mavx2 -mfma -mf16c; see
// kernels/avx2/sdpa_flash.cpp).
#include "kernels/avx2/vec8.hpp"
#include "kernels/flash/sdpa_decode_impl.hpp"

namespace kattn::kernels {

void sdpa_decode_item_avx2(const SdpaParams<float>& params, int64_t item, float* workspace,
                           float* partials) noexcept {
  sdpa_decode_item<avx2::Vec8>(params, item, workspace, partials);
}

}  // namespace kattn::kernels
