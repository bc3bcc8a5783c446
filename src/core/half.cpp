#include "kattn/core/half.hpp"

#include <fp16.h>

#include <cstring>

namespace kattn {

namespace {

uint32_t bits_of(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

}  // namespace

const char* half_format_name(HalfFormat format) {
  return format == HalfFormat::kFloat16 ? "float16" : "bfloat16";
}

uint16_t float_to_half(float x, HalfFormat format) {
  if (format == HalfFormat::kFloat16) return fp16_ieee_from_fp32_value(x);
  const uint32_t bits = bits_of(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t round = 0x7fffu + ((bits >> 16) & 1u);  // ties to the even neighbour
  return static_cast<uint16_t>((bits + round) >> 16);
}

float half_to_float(uint16_t bits, HalfFormat format) {
  if (format == HalfFormat::kFloat16) return fp16_ieee_to_fp32_value(bits);
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &wide, sizeof x);
  return x;
}

}  // namespace kattn
