// ops::convolution (Conv1D's and Conv2D's cross-correlation) and its backward against central
// differences in double, over strides, dilations, paddings and groups.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "ops/convolution.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::Convolution;
using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_normal;

// By hand: one channel, x = 1 2 3 / 4 5 6, kernel 2x2 of 1, 10, 100, 1000 (valid).
TEST(Convolution, HandComputed) {
  const Tensor x({1, 2, 3, 1}, {1, 2, 3, 4, 5, 6});
  const Tensor kernel({2, 2, 1, 1}, {1, 10, 100, 1000});
  const Tensor bias({1}, {0.5f});
  const Tensor y = ops::convolution(x, kernel, &bias, {{1, 1}, {1, 1}, {0, 0}, {1, 2}, 1});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 1}));
  EXPECT_EQ(y.to_vector(),
            (std::vector<float>{1 + 20 + 400 + 5000 + 0.5f, 2 + 30 + 500 + 6000 + 0.5f}));
  // One spatial axis, one zero before: y[0] = pad * k0 + x0 * k1.
  const Tensor x1({1, 3, 1}, {1, 2, 3});
  const Tensor k1({2, 1, 1}, {1, 10});
  EXPECT_EQ(ops::convolution(x1, k1, static_cast<const Tensor*>(nullptr), {{1}, {1}, {1}, {3}, 1})
                .to_vector(),
            (std::vector<float>{10, 21, 32}));
}

TEST(Convolution, BackwardMatchesDifferencesInDouble) {
  struct Case {
    std::string name;
    Shape x, kernel;
    Convolution conv;
  };
  const std::vector<Case> cases = {
      {"1d valid", {2, 7, 3}, {3, 3, 4}, {{1}, {1}, {0}, {5}, 1}},
      {"1d causal dilated", {2, 6, 2}, {2, 2, 3}, {{1}, {2}, {2}, {6}, 1}},
      {"1d same strided groups", {1, 7, 4}, {3, 2, 4}, {{2}, {1}, {1}, {4}, 2}},
      {"2d valid strided", {2, 5, 4, 3}, {3, 2, 3, 2}, {{2, 1}, {1, 1}, {0, 0}, {2, 3}, 1}},
      {"2d same dilated", {1, 5, 5, 2}, {3, 3, 2, 3}, {{1, 1}, {2, 2}, {2, 2}, {5, 5}, 1}},
      {"2d same groups", {1, 4, 5, 4}, {2, 3, 2, 4}, {{2, 1}, {1, 1}, {0, 1}, {2, 5}, 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TensorF64 x = random_normal<double>(c.x, 1);
    TensorF64 kernel = random_normal<double>(c.kernel, 2);
    TensorF64 bias = random_normal<double>({c.kernel.back()}, 3);
    const TensorF64 y = ops::convolution(x, kernel, &bias, c.conv);
    const TensorF64 d_y = random_normal<double>(y.shape(), 4);
    TensorF64 d_kernel(kernel.shape());
    TensorF64 d_bias(bias.shape());
    const TensorF64 d_x = ops::convolution_backward(x, kernel, d_y, c.conv, d_kernel, &d_bias);
    const auto loss = [&] { return dot_sum(ops::convolution(x, kernel, &bias, c.conv), d_y); };
    EXPECT_TRUE(gradients_agree(d_x, numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6)) << "x";
    EXPECT_TRUE(gradients_agree(d_kernel, numeric_gradient(kernel, loss, 1e-6), 1e-7, 1e-6))
        << "kernel";
    EXPECT_TRUE(gradients_agree(d_bias, numeric_gradient(bias, loss, 1e-6), 1e-7, 1e-6)) << "bias";
  }
}

}  // namespace
}  // namespace kattn
