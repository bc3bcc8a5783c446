// ops::softmax over one axis or several: values against Keras 3 and the backward against central
// finite differences in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/ops/softmax.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_normal;

// x = arange(24).reshape(2, 3, 4) / 7 - 1.5 in float32.
Tensor ramp() {
  Tensor x({2, 3, 4});
  for (int64_t i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<float>(i) / 7.0f - 1.5f;
  }
  return x;
}

void expect_first_values(const Tensor& y, const std::vector<float>& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(y.data()[i], expected[i], 1e-7) << "element " << i;
  }
}

TEST(Softmax, OneAxisAsKerasComputesIt) {
  // keras.layers.Softmax(axis=1)(x)[0, :2].ravel()
  expect_first_values(
      ops::softmax(ramp(), {1}),
      {0.1693047136068344f, 0.1693047285079956f, 0.1693047136068344f, 0.1693047285079956f,
       0.2998039424419403f, 0.2998039424419403f, 0.2998039424419403f, 0.2998039424419403f});
}

TEST(Softmax, SeveralAxesJointly) {
  // keras.layers.Softmax(axis=[1, 2])(x)[0, :2].ravel() (jax backend: numpy's cannot run it)
  const Tensor y = ops::softmax(ramp(), {1, 2});
  expect_first_values(
      y, {0.03373046964406967f, 0.03891029208898544f, 0.0448855496942997f, 0.0517784059047699f,
          0.05972975492477417f, 0.0689021497964859f, 0.07948309928178787f, 0.09168891608715057f});
  for (int64_t b = 0; b < 2; ++b) {
    double sum = 0.0;
    for (int64_t i = 0; i < 12; ++i) sum += y.data()[b * 12 + i];
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
}

TEST(Softmax, BackwardMatchesCentralDifferencesInDouble) {
  for (const std::vector<int64_t>& axes : std::vector<std::vector<int64_t>>{{2}, {0}, {1, 2}}) {
    TensorF64 x = random_normal<double>({2, 3, 4}, 5);
    const TensorF64 d = random_normal<double>({2, 3, 4}, 6);
    const auto loss = [&] { return dot_sum(ops::softmax(x, axes), d); };
    const TensorF64 actual = ops::softmax_backward(ops::softmax(x, axes), d, axes);
    EXPECT_TRUE(gradients_agree(actual, numeric_gradient(x, loss, 1e-6), 1e-8, 1e-6))
        << "axes of size " << axes.size() << " from " << axes[0];
  }
}

}  // namespace
}  // namespace kattn
