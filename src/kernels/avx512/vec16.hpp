// Sixteen floats in one AVX-512 register: the vector type the avx512 kernels are instantiated
// with. AVX-512F only (with F16C and FMA, which every AVX-512F CPU has). Include only from files
// compiled with -mavx512f -mavx2 -mfma -mf16c (kernels/avx512/), or with KATTN_AVX512_EMULATED,
// where SIMDe carries out the same intrinsics in software.
#pragma once

#ifdef KATTN_AVX512_EMULATED
#include "kernels/avx512/simde.hpp"
#else
#include <immintrin.h>
#endif

#include <cstdint>

namespace kattn::kernels::avx512 {

struct Vec16 {
  static constexpr int64_t kWidth = 16;
  __m512 v;

  static Vec16 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  // Sixteen IEEE half floats, sixteen bfloat16s (the high halves of floats).
  static Vec16 load_float16(const uint16_t* p) {
    return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  static Vec16 load_bfloat16(const uint16_t* p) {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(wide, 16))};
  }
  static Vec16 broadcast(const float* p) { return {_mm512_set1_ps(*p)}; }
  static Vec16 splat(float x) { return {_mm512_set1_ps(x)}; }
  static Vec16 zero() { return {_mm512_setzero_ps()}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }

  friend Vec16 operator+(Vec16 a, Vec16 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec16 operator-(Vec16 a, Vec16 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec16 operator*(Vec16 a, Vec16 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend Vec16 operator/(Vec16 a, Vec16 b) { return {_mm512_div_ps(a.v, b.v)}; }
  // a * b + c
  friend Vec16 fma(Vec16 a, Vec16 b, Vec16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  // maxps / minps: b when either is NaN.
  friend Vec16 vmax(Vec16 a, Vec16 b) { return {_mm512_max_ps(a.v, b.v)}; }
  friend Vec16 vmin(Vec16 a, Vec16 b) { return {_mm512_min_ps(a.v, b.v)}; }
  // Round to nearest, ties to even.
  friend Vec16 round(Vec16 a) {
    return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  // 2^n for integral n in [-126, 127].
  friend Vec16 pow2(Vec16 n) {
    const __m512i bits =
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23);
    return {_mm512_castsi512_ps(bits)};
  }
  // 0 where x < bound, else a (NaN x keeps a).
  friend Vec16 zero_where_less(Vec16 a, Vec16 x, Vec16 bound) {
    return {_mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x.v, bound.v, _CMP_NLT_UQ), a.v)};
  }
  // The halves added lane by lane, then the AVX2 version's order:
  // ((b0 + b4) + (b2 + b6)) + ((b1 + b5) + (b3 + b7)) with b = low half + high half.
  friend float hsum(Vec16 a) {
    const __m256 b =
        _mm256_add_ps(_mm512_castps512_ps256(a.v),
                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a.v), 1)));
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
  }
  // if_equal where a == b, else otherwise.
  friend Vec16 select_equal(Vec16 a, Vec16 b, Vec16 if_equal, Vec16 otherwise) {
    return {
        _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ), otherwise.v, if_equal.v)};
  }
};

}  // namespace kattn::kernels::avx512
