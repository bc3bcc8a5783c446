// The CPU's peak floating-point rate on one thread: independent chains of fused multiply-adds at
// the widest vector width the CPU has, the ceiling that no matrix product can pass.
#pragma once

#include <cstdint>

namespace kattn::cli {

struct FmaProbe {
  const char* vectors = "";  // "avx512" (16 floats) or "avx2" (8 floats)
  int64_t flop = 0;          // per call of run
  // Runs the chains from `seed`; returns their sum, which the caller keeps.
  float (*run)(float seed) = nullptr;
};

// The probe for the widest FMA this CPU runs; NotSupportedError when it has neither AVX-512F nor
// AVX2 + FMA (or is not an x86-64 CPU).
FmaProbe widest_fma_probe();

}  // namespace kattn::cli
