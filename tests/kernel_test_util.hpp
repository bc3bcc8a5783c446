// What the fused-kernel tests share: the instruction sets to sweep, and inputs surrounded by
// NaN.
#pragma once

#include <limits>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kernels/dispatch.hpp"

namespace kattn::testing {

// `values` (rank 4) seen through a view into a larger NaN-filled tensor: one extra row before
// and after along axes 1 and 3, so every stride differs from the dense layout and a read past
// any edge picks up NaN.
inline Tensor in_poisoned_memory(const Tensor& values) {
  const Shape& s = values.shape();
  Tensor padded({s[0], s[1] + 2, s[2], s[3] + 2});
  padded.fill(std::numeric_limits<float>::quiet_NaN());
  Tensor view = padded.slice(1, 1, s[1] + 1).slice(3, 1, s[3] + 1);
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t t = 0; t < s[1]; ++t)
      for (int64_t n = 0; n < s[2]; ++n)
        for (int64_t h = 0; h < s[3]; ++h) view(b, t, n, h) = values(b, t, n, h);
  return view;
}

// The fused instruction sets this CPU runs: portable always, AVX2 and AVX-512 when present (the
// InstructionSets tests say which this CPU lacks, as skipped).
inline std::vector<kernels::Isa> fused_isas() {
  std::vector<kernels::Isa> isas{kernels::Isa::kPortable};
  for (const kernels::Isa isa : {kernels::Isa::kAvx2, kernels::Isa::kAvx512}) {
    if (kernels::cpu_runs(isa)) isas.push_back(isa);
  }
  return isas;
}

// The instruction sets with a packed projection product that this CPU runs.
inline std::vector<kernels::Isa> packed_gemm_isas() {
  std::vector<kernels::Isa> isas = fused_isas();
  isas.erase(isas.begin());  // portable projections use OpenBLAS
  return isas;
}

}  // namespace kattn::testing
