// The decode kernel's item in plain C++, for any CPU.
#include "kernels/flash/sdpa_decode_impl.hpp"
#include "kernels/portable/vec16.hpp"

namespace kattn::kernels {

void sdpa_decode_item_portable(const SdpaParams<float>& params, int64_t item, float* workspace,
                               float* partials) noexcept {
  sdpa_decode_item<portable::Vec16>(params, item, workspace, partials);
}

}  // namespace kattn::kernels
