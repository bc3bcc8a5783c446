// The packed product for AVX2 + FMA. Compiled with -mavx2 -mfma -mf16c (src/CMakeLists.txt);
// runs only after kernels/dispatch.cpp has found them on the CPU.
#include "kernels/avx2/vec8.hpp"
#include "kernels/gemm/packed_gemm_impl.hpp"

namespace kattn::kernels {

void packed_gemm_avx2(const PackedGemmParams& params, int64_t item, float* workspace) noexcept {
  PackedGemm<avx2::Vec8>::item(params, item, workspace);
}

}  // namespace kattn::kernels
