// 16-bit floats: float16 and bfloat16 round to nearest, ties to even, keep NaN, and convert back
// exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kattn/core/half.hpp"

namespace kattn {
namespace {

float from_bits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

TEST(Half, Float16RoundsToNearestEven) {
  const HalfFormat f16 = HalfFormat::kFloat16;
  EXPECT_EQ(float_to_half(1.0f, f16), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f, f16), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f, f16), 0x7bff);                      // the largest float16
  EXPECT_EQ(float_to_half(65520.0f, f16), 0x7c00);                      // rounds up to infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24), f16), 0x0001);         // the smallest subnormal
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11), f16), 0x3c00);  // tie: to even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11), f16), 0x3c02);  // tie: to even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -10), f16), 0x3c01);      // exact
  EXPECT_TRUE(
      std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN(), f16), f16)));
  EXPECT_EQ(half_to_float(0x3555, f16), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001, f16), std::ldexp(1.0f, -24));
}

TEST(Half, BFloat16RoundsToNearestEven) {
  const HalfFormat bf16 = HalfFormat::kBFloat16;
  EXPECT_EQ(float_to_half(1.0f, bf16), 0x3f80);
  EXPECT_EQ(float_to_half(from_bits(0x3f808000), bf16), 0x3f80);  // tie: to even
  EXPECT_EQ(float_to_half(from_bits(0x3f818000), bf16), 0x3f82);  // tie: to even
  EXPECT_EQ(float_to_half(from_bits(0x3f808001), bf16), 0x3f81);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::max(), bf16), 0x7f80);  // to infinity
  EXPECT_EQ(float_to_half(1e30f, bf16), 0x714a);                    // 0x7149f2ca rounds up
  const uint16_t nan = float_to_half(from_bits(0x7f800001), bf16);  // a NaN whose top half is inf
  EXPECT_TRUE(std::isnan(half_to_float(nan, bf16)));
  EXPECT_EQ(half_to_float(0xc040, bf16), -3.0f);
}

TEST(Half, EveryHalfConvertsBackExactly) {
  for (const HalfFormat format : {HalfFormat::kFloat16, HalfFormat::kBFloat16}) {
    for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
      const float x = half_to_float(static_cast<uint16_t>(bits), format);
      if (std::isnan(x)) continue;
      ASSERT_EQ(float_to_half(x, format), bits) << half_format_name(format);
    }
  }
}

}  // namespace
}  // namespace kattn
