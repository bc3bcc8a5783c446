// The packed product for AVX-512F. Compiled with -mavx512f -mavx2 -mfma -mf16c
// (src/CMakeLists.txt); runs only after kernels/dispatch.cpp has found AVX-512F on the CPU.
#include "kernels/avx512/vec16.hpp"
#include "kernels/gemm/packed_gemm_impl.hpp"

namespace kattn::kernels {

void packed_gemm_avx512(const PackedGemmParams& params, int64_t item, float* workspace) noexcept {
  PackedGemm<avx512::Vec16>::item(params, item, workspace);
}

}  // namespace kattn::kernels
