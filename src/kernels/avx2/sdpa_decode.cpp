// The decode kernel's item for AVX2 + FMA (compiled with -mavx2 -mfma; see
// kernels/avx2/sdpa_flash.cpp).
#include "kernels/avx2/vec8.hpp"
#include "kernels/flash/sdpa_decode_impl.hpp"

namespace kattn::kernels {

void sdpa_decode_item_avx2(const SdpaParams<float>& params, int64_t item, float* workspace,
                           float* partials) noexcept {
  SdpaDecode<avx2::Vec8>::item(params, item, workspace, partials);
}

}  // namespace kattn::kernels
