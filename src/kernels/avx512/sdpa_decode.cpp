// The decode kernel's item for AVX-512F (compiled with -mavx512f -mavx2 -mfma -mf16c; see
// kernels/avx512/sdpa_flash.cpp).
#include "kernels/avx512/vec16.hpp"
#include "kernels/flash/sdpa_decode_impl.hpp"

namespace kattn::kernels {

void sdpa_decode_item_avx512(const SdpaParams<float>& params, int64_t item, float* workspace,
                             float* partials) noexcept {
  sdpa_decode_item<avx512::Vec16>(params, item, workspace, partials);
}

}  // namespace kattn::kernels
