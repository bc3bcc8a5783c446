// The decode kernel's chunk step for AVX2 + FMA (compiled with -mavx2 -mfma; see
// kernels/avx2/sdpa_flash.cpp).
#include "kernels/avx2/vec8.hpp"
#include "kernels/flash/sdpa_decode_impl.hpp"

namespace kattn::kernels {

void sdpa_decode_chunk_avx2(const SdpaParams<float>& params, int64_t item, float* logits,
                            float* partials) noexcept {
  SdpaDecode<avx2::Vec8>::chunk(params, item, logits, partials);
}

}  // namespace kattn::kernels
