// The decode kernel's chunk step in plain C++, for any CPU.
#include "kernels/flash/sdpa_decode_impl.hpp"
#include "kernels/portable/vec8.hpp"

namespace kattn::kernels {

void sdpa_decode_chunk_portable(const SdpaParams<float>& params, int64_t item, float* logits,
                                float* partials) noexcept {
  SdpaDecode<portable::Vec8>::chunk(params, item, logits, partials);
}

}  // namespace kattn::kernels
