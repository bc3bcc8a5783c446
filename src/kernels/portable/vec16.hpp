// Sixteen floats as a plain array: the vector type the portable kernels are instantiated with.
// Same operations as kernels/avx2/vec8.hpp, written as loops the compiler vectorises for
// whatever the build targets; sixteen lanes, as many as AVX-512's, so that the kernels' code
// for that width runs and is tested on every machine.
#pragma once

#include <fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kattn::kernels::portable {

struct Vec16 {
  static constexpr int64_t kWidth = 16;
  float v[16];

  static Vec16 load(const float* p) {
    Vec16 r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static Vec16 load_float16(const uint16_t* p) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = fp16_ieee_to_fp32_value(p[i]);
    return r;
  }
  static Vec16 load_bfloat16(const uint16_t* p) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) {
      const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
      std::memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
  }
  static Vec16 broadcast(const float* p) { return splat(*p); }
  static Vec16 splat(float x) {
    Vec16 r;
    for (float& lane : r.v) lane = x;
    return r;
  }
  static Vec16 zero() { return splat(0.0f); }
  void store(float* p) const { std::memcpy(p, v, sizeof v); }

  template <typename Op>
  static Vec16 map(Vec16 a, Vec16 b, Op op) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = op(a.v[i], b.v[i]);
    return r;
  }

  friend Vec16 operator+(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x + y; });
  }
  friend Vec16 operator-(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x - y; });
  }
  friend Vec16 operator*(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x * y; });
  }
  friend Vec16 operator/(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x / y; });
  }
  // a * b + c (two roundings: portable code cannot count on an FMA instruction).
  friend Vec16 fma(Vec16 a, Vec16 b, Vec16 c) { return a * b + c; }
  // Like maxps / minps: b when either is NaN.
  friend Vec16 vmax(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x > y ? x : y; });
  }
  friend Vec16 vmin(Vec16 a, Vec16 b) {
    return map(a, b, [](float x, float y) { return x < y ? x : y; });
  }
  friend Vec16 round(Vec16 a) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = std::nearbyint(a.v[i]);
    return r;
  }
  // 2^n for integral n in [-126, 127].
  friend Vec16 pow2(Vec16 n) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) {
      const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.v[i]) + 127) << 23;
      std::memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
  }
  // 0 where x < bound, else a (NaN x keeps a).
  friend Vec16 zero_where_less(Vec16 a, Vec16 x, Vec16 bound) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = x.v[i] < bound.v[i] ? 0.0f : a.v[i];
    return r;
  }
  // The halves added lane by lane, then ((b0 + b4) + (b2 + b6)) + ((b1 + b5) + (b3 + b7)), the
  // order of the AVX2 version.
  friend float hsum(Vec16 a) {
    float b[8];
    for (int i = 0; i < 8; ++i) b[i] = a.v[i] + a.v[i + 8];
    const float x0 = b[0] + b[4], x1 = b[1] + b[5], x2 = b[2] + b[6], x3 = b[3] + b[7];
    return (x0 + x2) + (x1 + x3);
  }
  // if_equal where a == b, else otherwise.
  friend Vec16 select_equal(Vec16 a, Vec16 b, Vec16 if_equal, Vec16 otherwise) {
    Vec16 r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = a.v[i] == b.v[i] ? if_equal.v[i] : otherwise.v[i];
    return r;
  }
};

}  // namespace kattn::kernels::portable
