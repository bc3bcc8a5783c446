// The choice of the packed recurrent loop's kernels for the active instruction set.
#include "kernels/recurrent/recurrent_gates.hpp"

#include "kernels/dispatch.hpp"

namespace kattn::kernels {

std::optional<RecurrentKernels> recurrent_kernels() {
  [[maybe_unused]] const Isa isa = active_isa();
#ifdef KATTN_HAVE_AVX512_KERNELS
  if (isa == Isa::kAvx512) {
    return RecurrentKernels{&packed_gemm_avx512, &lstm_gates_avx512, &gru_gates_avx512,
                            &simple_rnn_gates_avx512};
  }
#endif
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (isa == Isa::kAvx2) {
    return RecurrentKernels{&packed_gemm_avx2, &lstm_gates_avx2, &gru_gates_avx2,
                            &simple_rnn_gates_avx2};
  }
#endif
  return std::nullopt;
}

}  // namespace kattn::kernels
