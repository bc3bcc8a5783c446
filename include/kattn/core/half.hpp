// 16-bit floats, the storage of a half-precision KVCache: IEEE binary16 ("float16") and the
// bfloat16 of TPUs and AVX-512 BF16 (float32's top 16 bits). Stored as their bits; arithmetic
// always converts to float32 first.
#pragma once

#include <cstdint>

namespace kattn {

enum class HalfFormat {
  kFloat16,   // 1 sign, 5 exponent, 10 mantissa bits: about 3 significant digits, |x| < 65520
  kBFloat16,  // 1 sign, 8 exponent, 7 mantissa bits: float32's range, about 2 digits
};

// "float16" or "bfloat16", as Keras names the dtypes.
const char* half_format_name(HalfFormat format);

// Rounds to nearest, ties to even; NaN stays NaN, float16 overflows to infinity.
uint16_t float_to_half(float x, HalfFormat format);
// Exact.
float half_to_float(uint16_t bits, HalfFormat format);

}  // namespace kattn
