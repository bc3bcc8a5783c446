// Eight floats in one AVX2 register: the vector type the avx2 kernels are instantiated with.
// Include only from files compiled with -mavx2 -mfma -mf16c (kernels/avx2/).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace kattn::kernels::avx2 {

struct Vec8 {
  static constexpr int64_t kWidth = 8;
  __m256 v;

  static Vec8 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  // Eight IEEE half floats (F16C), eight bfloat16s (the high halves of floats).
  static Vec8 load_float16(const uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))};
  }
  static Vec8 load_bfloat16(const uint16_t* p) {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(wide, 16))};
  }
  static Vec8 broadcast(const float* p) { return {_mm256_broadcast_ss(p)}; }
  static Vec8 splat(float x) { return {_mm256_set1_ps(x)}; }
  static Vec8 zero() { return {_mm256_setzero_ps()}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }

  friend Vec8 operator+(Vec8 a, Vec8 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec8 operator-(Vec8 a, Vec8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec8 operator*(Vec8 a, Vec8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Vec8 operator/(Vec8 a, Vec8 b) { return {_mm256_div_ps(a.v, b.v)}; }
  // a * b + c
  friend Vec8 fma(Vec8 a, Vec8 b, Vec8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  // maxps / minps: b when either is NaN.
  friend Vec8 vmax(Vec8 a, Vec8 b) { return {_mm256_max_ps(a.v, b.v)}; }
  friend Vec8 vmin(Vec8 a, Vec8 b) { return {_mm256_min_ps(a.v, b.v)}; }
  // Round to nearest, ties to even.
  friend Vec8 round(Vec8 a) {
    return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  // 2^n for integral n in [-126, 127].
  friend Vec8 pow2(Vec8 n) {
    const __m256i bits =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
    return {_mm256_castsi256_ps(bits)};
  }
  // 0 where x < bound, else a (NaN x keeps a).
  friend Vec8 zero_where_less(Vec8 a, Vec8 x, Vec8 bound) {
    return {_mm256_andnot_ps(_mm256_cmp_ps(x.v, bound.v, _CMP_LT_OQ), a.v)};
  }
  // ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
  friend float hsum(Vec8 a) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
  }
  // if_equal where a == b, else otherwise.
  friend Vec8 select_equal(Vec8 a, Vec8 b, Vec8 if_equal, Vec8 otherwise) {
    return {_mm256_blendv_ps(otherwise.v, if_equal.v, _mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ))};
  }
};

}  // namespace kattn::kernels::avx2
