// Helpers shared by the projected-attention tests (the sdpa op, MultiHeadAttention,
// GroupedQueryAttention).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::testing {

// Standard-normal values from a fixed seed.
template <typename Real = float>
BasicTensor<Real> random_normal(Shape shape, uint64_t seed) {
  BasicTensor<Real> tensor(std::move(shape));
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  Real* data = tensor.data();
  for (int64_t i = 0; i < tensor.size(); ++i) data[i] = static_cast<Real>(normal(engine));
  return tensor;
}

// Random booleans with P(true) = `p_true`.
inline Mask random_mask(Shape shape, uint64_t seed, double p_true = 0.7) {
  Mask mask(std::move(shape));
  std::mt19937_64 engine(seed);
  std::bernoulli_distribution coin(p_true);
  bool* data = mask.data();
  for (int64_t i = 0; i < mask.size(); ++i) data[i] = coin(engine);
  return mask;
}

// Fails unless the shapes match and abs(a - e) <= atol + rtol * abs(e) everywhere; reports the
// worst element.
template <typename A, typename E>
::testing::AssertionResult all_close(const BasicTensor<A>& actual, const BasicTensor<E>& expected,
                                     double atol = 1e-5, double rtol = 1e-5) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_to_string(actual.shape())
                                         << " != " << shape_to_string(expected.shape());
  }
  const auto a = actual.to_vector();
  const auto e = expected.to_vector();
  double worst = 0.0;
  size_t worst_at = 0;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(a[i]) - static_cast<double>(e[i]));
    if (!(diff <= atol + rtol * std::fabs(static_cast<double>(e[i])))) ok = false;
    if (!(diff <= worst)) {
      worst = diff;
      worst_at = i;
    }
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "max abs difference " << worst << " at flat index " << worst_at << ": actual "
         << static_cast<double>(a[worst_at]) << ", expected " << static_cast<double>(e[worst_at]);
}

// The message of the ValueError `statement` throws, or a note that it threw none.
template <typename Fn>
std::string value_error_message(Fn&& statement) {
  try {
    statement();
  } catch (const ValueError& error) {
    return error.what();
  }
  return "<no ValueError thrown>";
}

}  // namespace kattn::testing
