// AVX-512F in software, for builds with KATTN_EMULATE_AVX512: SIMDe's implementation under the
// intrinsics' own names (its "native aliases"), and the three conversions SIMDe 0.7 lacks, here
// element by element as the instructions define them.
#pragma once

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <fp16.h>
#include <simde/x86/avx512.h>

#include <cmath>
#include <cstdint>

namespace kattn::kernels::avx512::emulated {

// vcvtph2ps: sixteen IEEE halves to floats.
inline simde__m512 cvtph_ps(simde__m256i halves) {
  uint16_t in[16];
  float out[16];
  simde_mm256_storeu_si256(in, halves);
  for (int i = 0; i < 16; ++i) out[i] = fp16_ieee_to_fp32_value(in[i]);
  return simde_mm512_loadu_ps(out);
}

// vpmovzxwd: sixteen unsigned 16-bit integers widened to 32 bits.
inline simde__m512i cvtepu16_epi32(simde__m256i values) {
  uint16_t in[16];
  int32_t out[16];
  simde_mm256_storeu_si256(in, values);
  for (int i = 0; i < 16; ++i) out[i] = in[i];
  return simde_mm512_loadu_si512(out);
}

// vcvtps2dq: to nearest even; NaN and out of range give the "integer indefinite" INT32_MIN.
inline simde__m512i cvtps_epi32(simde__m512 x) {
  float in[16];
  int32_t out[16];
  simde_mm512_storeu_ps(in, x);
  for (int i = 0; i < 16; ++i) {
    const bool fits = in[i] >= -2147483648.0f && in[i] < 2147483648.0f;
    out[i] = fits ? static_cast<int32_t>(std::nearbyint(in[i])) : INT32_MIN;
  }
  return simde_mm512_loadu_si512(out);
}

}  // namespace kattn::kernels::avx512::emulated

#define _mm512_cvtph_ps kattn::kernels::avx512::emulated::cvtph_ps
#define _mm512_cvtepu16_epi32 kattn::kernels::avx512::emulated::cvtepu16_epi32
#define _mm512_cvtps_epi32 kattn::kernels::avx512::emulated::cvtps_epi32
