// Eight floats as a plain array: the vector type the portable kernels are instantiated with.
// Same operations as kernels/avx2/vec8.hpp, written as loops the compiler vectorises for
// whatever the build targets.
#pragma once

#include <fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kattn::kernels::portable {

struct Vec8 {
  static constexpr int64_t kWidth = 8;
  float v[8];

  static Vec8 load(const float* p) {
    Vec8 r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static Vec8 load_float16(const uint16_t* p) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = fp16_ieee_to_fp32_value(p[i]);
    return r;
  }
  static Vec8 load_bfloat16(const uint16_t* p) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) {
      const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
      std::memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
  }
  static Vec8 broadcast(const float* p) { return splat(*p); }
  static Vec8 splat(float x) {
    Vec8 r;
    for (float& lane : r.v) lane = x;
    return r;
  }
  static Vec8 zero() { return splat(0.0f); }
  void store(float* p) const { std::memcpy(p, v, sizeof v); }

  template <typename Op>
  static Vec8 map(Vec8 a, Vec8 b, Op op) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = op(a.v[i], b.v[i]);
    return r;
  }

  friend Vec8 operator+(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x + y; });
  }
  friend Vec8 operator-(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x - y; });
  }
  friend Vec8 operator*(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x * y; });
  }
  friend Vec8 operator/(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x / y; });
  }
  // a * b + c (two roundings: portable code cannot count on an FMA instruction).
  friend Vec8 fma(Vec8 a, Vec8 b, Vec8 c) { return a * b + c; }
  // Like maxps / minps: b when either is NaN.
  friend Vec8 vmax(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x > y ? x : y; });
  }
  friend Vec8 vmin(Vec8 a, Vec8 b) {
    return map(a, b, [](float x, float y) { return x < y ? x : y; });
  }
  friend Vec8 round(Vec8 a) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = std::nearbyint(a.v[i]);
    return r;
  }
  // 2^n for integral n in [-126, 127].
  friend Vec8 pow2(Vec8 n) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) {
      const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.v[i]) + 127) << 23;
      std::memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
  }
  // 0 where x < bound, else a (NaN x keeps a).
  friend Vec8 zero_where_less(Vec8 a, Vec8 x, Vec8 bound) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = x.v[i] < bound.v[i] ? 0.0f : a.v[i];
    return r;
  }
  // ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), the order of the AVX2 version.
  friend float hsum(Vec8 a) {
    const float x0 = a.v[0] + a.v[4], x1 = a.v[1] + a.v[5], x2 = a.v[2] + a.v[6],
                x3 = a.v[3] + a.v[7];
    return (x0 + x2) + (x1 + x3);
  }
  // if_equal where a == b, else otherwise.
  friend Vec8 select_equal(Vec8 a, Vec8 b, Vec8 if_equal, Vec8 otherwise) {
    Vec8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] == b.v[i] ? if_equal.v[i] : otherwise.v[i];
    return r;
  }
};

}  // namespace kattn::kernels::portable
