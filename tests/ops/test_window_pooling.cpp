// ops::window_pool (max and average pooling over one or two spatial axes): the SAME padding
// rule and Keras's numbers, then window_pool_backward against central differences in double.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "ops/window_pooling.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::PoolMode;
using ops::WindowPooling;
using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_normal;

TEST(WindowPooling, PooledLengths) {
  EXPECT_EQ(ops::pooled_length(7, 2, 2, false), 3);
  EXPECT_EQ(ops::pooled_length(7, 3, 2, true), 4);  // ceil(7 / 2)
  EXPECT_EQ(ops::pooled_length(1, 2, 2, false), 0);
  EXPECT_EQ(ops::pooled_length(1, 4, 3, false), 0);  // floor(-3 / 3) + 1
  EXPECT_EQ(ops::pooled_length(0, 2, 1, true), 0);
  EXPECT_EQ(ops::pooled_length(-1, 2, 1, true), -1);
}

// Keras 3.15's numpy backend on x = (arange(14) * 5 % 9 - 4).reshape(1, 7, 2).
TEST(WindowPooling, KerasNumbersOneAxis) {
  const Tensor x({1, 7, 2}, {-4, 1, -3, 2, -2, 3, -1, 4, 0, -4, 1, -3, 2, -2});
  // AveragePooling1D(3, strides=2, padding="same"): padded cells are not counted.
  EXPECT_EQ(ops::window_pool(x, {{3}, {2}, true, false, PoolMode::kAverage}).to_vector(),
            (std::vector<float>{-3.5f, 1.5f, -2, 3, 0, -1, 1.5f, -2.5f}));
  EXPECT_EQ(ops::window_pool(x, {{2}, {2}, false, false, PoolMode::kMax}).to_vector(),
            (std::vector<float>{-3, 2, -1, 4, 1, -3}));
  // channels_first: (1, 7, 2) read as 7 channels of 2 steps.
  const Tensor y = ops::window_pool(x, {{4}, {3}, true, true, PoolMode::kAverage});
  EXPECT_EQ(y.shape(), (Shape{1, 7, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{-1.5f, -0.5f, 0.5f, 1.5f, -2, -1, 0}));
}

// Keras 3.15's numpy backend on x = (arange(24) * 7 % 11 - 5).reshape(1, 3, 4, 2).
TEST(WindowPooling, KerasNumbersTwoAxes) {
  const Tensor x({1, 3, 4, 2}, {-5, 2,  -2, 5, 1,  -3, 4, 0,  -4, 3,  -1, -5,
                                2,  -2, 5,  1, -3, 4,  0, -4, 3,  -1, -5, 2});
  const Tensor max = ops::window_pool(x, {{2, 3}, {1, 2}, true, false, PoolMode::kMax});
  EXPECT_EQ(max.shape(), (Shape{1, 3, 2, 2}));
  EXPECT_EQ(max.to_vector(), (std::vector<float>{2, 5, 5, 1, 3, 4, 5, 2, 3, 4, 3, 2}));
  const std::vector<float> average =
      ops::window_pool(x, {{2, 3}, {1, 2}, true, false, PoolMode::kAverage}).to_vector();
  const std::vector<float> expected{-1.5f, 0, 3, -1,        -0.5f, -5.0f / 6,
                                    1.25f, 0, 0, -1.0f / 3, -1,    0.5f};
  ASSERT_EQ(average.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(average[i], expected[i], 1e-6) << i;
  EXPECT_EQ(ops::window_pool(x, {{2, 2}, {1, 1}, false, false, PoolMode::kAverage}).to_vector(),
            (std::vector<float>{-3, 1.25f, 0, -1.25f, 3, -1, -2, -0.5f, 1, -3, 1.25f, 0}));
  const Tensor first = ops::window_pool(x, {{2, 2}, {2, 2}, true, true, PoolMode::kMax});
  EXPECT_EQ(first.shape(), (Shape{1, 3, 2, 1}));
  EXPECT_EQ(first.to_vector(), (std::vector<float>{5, 4, 3, 5, 4, 3}));
}

TEST(WindowPooling, MaxPropagatesNaN) {
  const Tensor x({1, 3, 1}, {1, NAN, 2});
  const std::vector<float> y =
      ops::window_pool(x, {{2}, {1}, false, false, PoolMode::kMax}).to_vector();
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
}

// Every option against differences in double: overlapping and strided windows, both paddings,
// both layouts, one and two spatial axes.
TEST(WindowPooling, BackwardMatchesDifferencesInDouble) {
  struct Case {
    std::string name;
    Shape shape;
    WindowPooling pooling;
  };
  std::vector<Case> cases;
  for (const PoolMode mode : {PoolMode::kMax, PoolMode::kAverage}) {
    const std::string m = mode == PoolMode::kMax ? "max" : "average";
    cases.push_back({m + " 1d valid", {2, 7, 3}, {{3}, {2}, false, false, mode}});
    cases.push_back({m + " 1d same overlapping", {2, 7, 3}, {{3}, {1}, true, false, mode}});
    cases.push_back({m + " 1d same first", {2, 3, 6}, {{4}, {3}, true, true, mode}});
    cases.push_back({m + " 2d valid", {2, 5, 4, 3}, {{2, 2}, {1, 2}, false, false, mode}});
    cases.push_back({m + " 2d same", {1, 5, 4, 2}, {{2, 3}, {2, 1}, true, false, mode}});
    cases.push_back({m + " 2d same first", {1, 2, 5, 4}, {{3, 2}, {2, 2}, true, true, mode}});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TensorF64 x = random_normal<double>(c.shape, 11);
    const TensorF64 y = ops::window_pool(x, c.pooling);
    const TensorF64 d_output = random_normal<double>(y.shape(), 12);
    const TensorF64 d_inputs = ops::window_pool_backward(x, d_output, c.pooling);
    const auto loss = [&] { return dot_sum(ops::window_pool(x, c.pooling), d_output); };
    EXPECT_TRUE(gradients_agree(d_inputs, numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6));
  }
}

// Where differences cannot decide: a tie gives the window's gradient to its first maximum.
TEST(WindowPooling, MaxTieGoesToTheFirstMaximum) {
  const Tensor x({1, 4, 1}, {3, 3, 1, 3});
  const Tensor d = ops::window_pool_backward(x, Tensor({1, 3, 1}, {1, 10, 100}),
                                             {{2}, {1}, false, false, PoolMode::kMax});
  EXPECT_EQ(d.to_vector(), (std::vector<float>{1, 10, 0, 100}));
}

}  // namespace
}  // namespace kattn
