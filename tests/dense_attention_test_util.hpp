// Small helpers shared by the Attention / AdditiveAttention tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::testing {

// The score functions the fused-kernel tests sweep: each of Keras's with and without its weights.
enum class Scorer { kDot, kDotScaled, kConcat, kConcatScaled, kAdditive, kAdditiveUnscaled };
inline constexpr Scorer kScorers[] = {Scorer::kDot,      Scorer::kDotScaled,
                                      Scorer::kConcat,   Scorer::kConcatScaled,
                                      Scorer::kAdditive, Scorer::kAdditiveUnscaled};

// Uniform values in [-1, 1), reproducible from `seed`.
inline Tensor random_tensor(const Shape& shape, uint32_t seed, float amplitude = 1.0f) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(-amplitude, amplitude);
  Tensor t(shape);
  float* data = t.data();
  for (int64_t n = 0; n < t.size(); ++n) data[n] = uniform(engine);
  return t;
}

// Booleans true with probability `p_true`, reproducible from `seed`.
inline Mask random_mask(const Shape& shape, uint32_t seed, double p_true = 0.7) {
  std::mt19937 engine(seed);
  std::bernoulli_distribution bernoulli(p_true);
  Mask m(shape);
  bool* data = m.data();
  for (int64_t n = 0; n < m.size(); ++n) data[n] = bernoulli(engine);
  return m;
}

inline void expect_near_all(const Tensor& actual, const std::vector<float>& expected, double atol) {
  const std::vector<float> values = actual.to_vector();
  ASSERT_EQ(values.size(), expected.size());
  for (size_t n = 0; n < values.size(); ++n) {
    EXPECT_NEAR(values[n], expected[n], atol) << "at flat index " << n;
  }
}

}  // namespace kattn::testing
