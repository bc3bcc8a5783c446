// Central finite differences, for checking backward passes: d loss / d x[i] estimated as
// (loss(x + h e_i) - loss(x - h e_i)) / 2h, one element at a time, in the tensor's own type.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "kattn/core/tensor.hpp"

namespace kattn::testing {

// Differences of float32 layers in float32: step 1e-2, and agreement to about 1% of the
// gradient (a wrong term is off by far more).
inline constexpr double kFloatStep = 1e-2;
inline constexpr double kFloatAtol = 3e-3;
inline constexpr double kFloatRtol = 3e-2;

// sum(a * b) in double: the loss whose gradient with respect to `a` is `b`.
template <typename Real>
double dot_sum(const BasicTensor<Real>& a, const BasicTensor<Real>& b) {
  const BasicTensor<Real> x = a.contiguous(), y = b.contiguous();
  double sum = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    sum += static_cast<double>(x.data()[i]) * static_cast<double>(y.data()[i]);
  }
  return sum;
}

// The numeric gradient of `loss` with respect to `x` (contiguous, changed in place and restored).
template <typename Real>
BasicTensor<Real> numeric_gradient(BasicTensor<Real>& x, const std::function<double()>& loss,
                                   double step) {
  BasicTensor<Real> grad(x.shape());
  Real* data = x.data();
  for (int64_t i = 0; i < x.size(); ++i) {
    const Real saved = data[i];
    data[i] = static_cast<Real>(saved + step);
    const double plus = loss();
    data[i] = static_cast<Real>(saved - step);
    const double minus = loss();
    data[i] = saved;
    grad.data()[i] = static_cast<Real>((plus - minus) / (2 * step));
  }
  return grad;
}

// Every element of `actual` within atol + rtol * |expected|; names the first element that is not.
template <typename Real>
::testing::AssertionResult gradients_agree(const BasicTensor<Real>& actual,
                                           const BasicTensor<Real>& expected, double atol,
                                           double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_to_string(actual.shape())
                                         << " != " << shape_to_string(expected.shape());
  }
  const BasicTensor<Real> a = actual.contiguous(), e = expected.contiguous();
  for (int64_t i = 0; i < a.size(); ++i) {
    const double x = static_cast<double>(a.data()[i]), y = static_cast<double>(e.data()[i]);
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y
                                           << " (|diff| " << std::abs(x - y) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kattn::testing
