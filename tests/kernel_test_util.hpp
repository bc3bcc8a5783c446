// What the fused-kernel tests share: the instruction sets to sweep.
#pragma once

#include <vector>

#include "kernels/dispatch.hpp"

namespace kattn::testing {

// The fused instruction sets this CPU runs: portable always, AVX2 + FMA when present.
inline std::vector<kernels::Isa> fused_isas() {
  std::vector<kernels::Isa> isas{kernels::Isa::kPortable};
  if (kernels::cpu_has_avx2()) isas.push_back(kernels::Isa::kAvx2);
  return isas;
}

}  // namespace kattn::testing
