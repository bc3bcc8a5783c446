// How the decode kernel reads keys and values: as float32, or as 16-bit floats (a half-precision
// KVCache) converted to float32 a row at a time, so that each row is converted once however
// many query heads read it. Templates on V, like the kernels that use them, so each instruction
// set's copy has symbols of its own.
#pragma once

#include <fp16.h>

#include <cstdint>
#include <cstring>

#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels {

// Asks for the cache lines 4 KiB past the `length` elements at x: the rows a decoding item reads
// next (keys one after another), early enough that the loads find them in cache. On V only for
// its symbols (see above).
template <typename V, typename T>
void prefetch_ahead(const T* x, int64_t length) {
  constexpr int64_t kLine = 64 / sizeof(T), kAhead = 4096 / sizeof(T);
  for (int64_t at = 0; at < length; at += kLine) __builtin_prefetch(x + at + kAhead);
}

template <typename V>
struct Float32Elements {
  using Type = float;
  static const float* keys(const SdpaParams<float>& p) { return p.key; }
  static const float* values(const SdpaParams<float>& p) { return p.value; }

  // x[h * stride] for h < length as contiguous floats: x itself when contiguous, else copied
  // into `scratch` (length floats).
  static const float* row(const float* x, int64_t stride, int64_t length, float* scratch) {
    if (stride == 1) {
      prefetch_ahead<V>(x, length);
      return x;
    }
    for (int64_t h = 0; h < length; ++h) scratch[h] = x[h * stride];
    return scratch;
  }
};

template <typename V, HalfFormat kFormat>
struct HalfElements {
  using Type = uint16_t;
  static const uint16_t* keys(const SdpaParams<float>& p) { return p.key_half; }
  static const uint16_t* values(const SdpaParams<float>& p) { return p.value_half; }

  // x[h * stride] for h < length converted into `scratch` (length floats).
  static const float* row(const uint16_t* x, int64_t stride, int64_t length, float* scratch) {
    int64_t h = 0;
    if (stride == 1) {
      prefetch_ahead<V>(x, length);
      for (; h + V::kWidth <= length; h += V::kWidth) load(x + h).store(scratch + h);
    }
    for (; h < length; ++h) scratch[h] = scalar(x[h * stride]);
    return scratch;
  }

  static V load(const uint16_t* x) {
    if constexpr (kFormat == HalfFormat::kFloat16) {
      return V::load_float16(x);
    } else {
      return V::load_bfloat16(x);
    }
  }

  static float scalar(uint16_t x) {
    if constexpr (kFormat == HalfFormat::kFloat16) {
      return fp16_ieee_to_fp32_value(x);
    } else {
      const uint32_t bits = static_cast<uint32_t>(x) << 16;
      float value;
      std::memcpy(&value, &bits, sizeof value);
      return value;
    }
  }
};

}  // namespace kattn::kernels
