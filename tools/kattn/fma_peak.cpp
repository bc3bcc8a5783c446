#include "fma_peak.hpp"

#include <utility>

#include "kattn/core/error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kattn::cli {

namespace {

#if defined(__x86_64__)

// Twelve independent accumulators: more than an FMA's latency (4 cycles) times the FMA ports
// (2) on every x86 core since Haswell, so the loop is bound by throughput alone.
constexpr size_t kChains = 12;
constexpr int64_t kSteps = 1 << 24;  // tens of milliseconds: thread start-up is noise
using Chains = std::make_index_sequence<kChains>;

template <size_t N>
float total(const float (&lanes)[N]) {
  float sum = 0;
  for (float lane : lanes) sum += lane;
  return sum;
}

template <size_t... I>
__attribute__((target("avx512f"))) float run_avx512(float seed, std::index_sequence<I...>) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  __m512 acc[kChains] = {((void)I, _mm512_set1_ps(seed + static_cast<float>(I)))...};
  for (int64_t step = 0; step < kSteps; ++step) ((acc[I] = _mm512_fmadd_ps(acc[I], a, b)), ...);
  __m512 sum = _mm512_setzero_ps();
  ((sum = _mm512_add_ps(sum, acc[I])), ...);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  return total(lanes);
}

template <size_t... I>
__attribute__((target("avx2,fma"))) float run_avx2(float seed, std::index_sequence<I...>) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
  __m256 acc[kChains] = {((void)I, _mm256_set1_ps(seed + static_cast<float>(I)))...};
  for (int64_t step = 0; step < kSteps; ++step) ((acc[I] = _mm256_fmadd_ps(acc[I], a, b)), ...);
  __m256 sum = _mm256_setzero_ps();
  ((sum = _mm256_add_ps(sum, acc[I])), ...);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  return total(lanes);
}

constexpr int64_t flop(int64_t width) { return 2 * width * static_cast<int64_t>(kChains) * kSteps; }

#endif

}  // namespace

FmaProbe widest_fma_probe() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    return {"avx512", flop(16), [](float seed) { return run_avx512(seed, Chains{}); }};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {"avx2", flop(8), [](float seed) { return run_avx2(seed, Chains{}); }};
  }
#endif
  throw NotSupportedError(error_message(ErrorSource{"kattn bench fma", ""},
                                        "the FMA probe needs a vector FMA",
                                        "an x86-64 CPU with AVX-512F or AVX2 + FMA", "neither"));
}

}  // namespace kattn::cli
