// Keras regularizers: penalties and their gradients by Keras's formulas, configs and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/regularizers.hpp"

namespace kattn {
namespace {

using testing::expect_error;

Config keras_regularizer(const std::string& class_name, const Config& inner) {
  return {{"module", "keras.regularizers"},
          {"class_name", class_name},
          {"config", inner},
          {"registered_name", nullptr}};
}

// x = [[1, -2], [0.5, 3]]: sum |x| = 6.5, sum x^2 = 1 + 4 + 0.25 + 9 = 14.25.
const Tensor kX({2, 2}, {1.0f, -2.0f, 0.5f, 3.0f});

TEST(RegularizerPenalty, KerasFormulaOnASmallWeight) {
  EXPECT_DOUBLE_EQ(Regularizer::l1(0.1).penalty(kX), 0.1 * 6.5);
  EXPECT_DOUBLE_EQ(Regularizer::l2(0.2).penalty(kX), 0.2 * 14.25);
  EXPECT_DOUBLE_EQ(Regularizer::l1_l2(0.1, 0.2).penalty(kX), 0.1 * 6.5 + 0.2 * 14.25);
  // Keras's defaults: L1 and L2 0.01, L1L2 nothing.
  EXPECT_DOUBLE_EQ(Regularizer::l1().penalty(kX), 0.01 * 6.5);
  EXPECT_DOUBLE_EQ(Regularizer::l2().penalty(kX), 0.01 * 14.25);
  EXPECT_EQ(Regularizer::l1_l2().penalty(kX), 0.0);
}

TEST(RegularizerPenalty, KerasDocstringExamples) {
  // regularizer = L2(2.); regularizer(ops.ones((5, 5))) -> 50.0
  EXPECT_DOUBLE_EQ(Regularizer::l2(2.0).penalty(Tensor::full({5, 5}, 1.0f)), 50.0);
  // A Dense kernel of ones (5, 5) under L1(0.01): 0.25.
  EXPECT_DOUBLE_EQ(Regularizer::l1(0.01).penalty(Tensor::full({5, 5}, 1.0f)), 0.25);
}

TEST(RegularizerPenalty, StridedViewsAndEmptyTensors) {
  EXPECT_DOUBLE_EQ(Regularizer::l1_l2(0.3, 0.7).penalty(kX.transpose(0, 1)),
                   Regularizer::l1_l2(0.3, 0.7).penalty(kX));
  EXPECT_EQ(Regularizer::l2(1.0).penalty(Tensor({0, 3})), 0.0);
}

TEST(RegularizerPenalty, AZeroFactorAddsNothingEvenForInfinities) {
  // Keras skips a zero factor (`if self.l2:`), so 0 * inf never turns the penalty into NaN.
  const Tensor inf({2}, {std::numeric_limits<float>::infinity(), 1.0f});
  EXPECT_EQ(Regularizer::l1_l2(0.5, 0.0).penalty(inf), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Regularizer::l1_l2(0.0, 0.0).penalty(inf), 0.0);
}

TEST(RegularizerGradient, AddsL1SignPlusTwiceL2X) {
  const Tensor x({4}, {1.0f, -2.0f, 0.0f, 3.0f});
  Tensor grad = Tensor::full({4}, 1.0f);
  Regularizer::l1_l2(0.1, 0.2).add_gradient(x, grad);
  // 1 + 0.1 * sign(x) + 2 * 0.2 * x, with sign(0) = 0.
  const std::vector<float> g = grad.to_vector();
  EXPECT_FLOAT_EQ(g[0], static_cast<float>(1.0 + 0.1 + 0.4));
  EXPECT_FLOAT_EQ(g[1], static_cast<float>(1.0 - 0.1 - 0.8));
  EXPECT_FLOAT_EQ(g[2], 1.0f);
  EXPECT_FLOAT_EQ(g[3], static_cast<float>(1.0 + 0.1 + 1.2));
  // It accumulates: a second call adds the same again.
  Regularizer::l1_l2(0.1, 0.2).add_gradient(x, grad);
  EXPECT_FLOAT_EQ(grad.to_vector()[3], static_cast<float>(1.0 + 2.0 * (0.1 + 1.2)));
}

TEST(RegularizerGradient, MatchesCentralFiniteDifferences) {
  // Entries away from 0, where |x| has its kink.
  Tensor x({3, 4});
  for (int64_t i = 0; i < x.size(); ++i) {
    const float v = 0.25f + 0.125f * static_cast<float>(i);
    x.data()[i] = i % 3 == 1 ? -v : v;
  }
  for (const Regularizer& regularizer :
       {Regularizer::l1(0.3), Regularizer::l2(0.45), Regularizer::l1_l2(0.05, 1.5)}) {
    SCOPED_TRACE(regularizer.class_name());
    Tensor grad({3, 4});
    regularizer.add_gradient(x, grad);
    for (int64_t i = 0; i < x.size(); ++i) {
      Tensor plus = x.clone();
      Tensor minus = x.clone();
      plus.data()[i] += 1e-2f;
      minus.data()[i] -= 1e-2f;
      // The step actually taken, after rounding to float.
      const double step = double{plus.data()[i]} - double{minus.data()[i]};
      const double numeric = (regularizer.penalty(plus) - regularizer.penalty(minus)) / step;
      EXPECT_NEAR(grad.data()[i], numeric, 1e-5 * (1.0 + std::fabs(numeric))) << "i=" << i;
    }
  }
}

TEST(RegularizerGradient, WritesIntoAStridedView) {
  // grad is the transpose of a (2, 3) buffer: element (i, j) of the view is buffer (j, i).
  const Tensor x({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor buffer({2, 3});
  Tensor grad = buffer.transpose(0, 1);
  Regularizer::l2(0.5).add_gradient(x, grad);
  // 2 * 0.5 * x, transposed into the buffer.
  EXPECT_EQ(buffer.to_vector(), (std::vector<float>{1, 3, 5, 2, 4, 6}));
}

TEST(RegularizerGradient, ShapeMismatchIsAValueError) {
  expect_error(
      [] {
        Tensor grad({4});
        Regularizer::l2().add_gradient(kX, grad);
      },
      "L2: gradient shape does not match the weight. Expected grad of shape (2, 2). Received: "
      "grad.shape=(4,).");
}

TEST(RegularizerConfig, KerasConfigsRoundTrip) {
  for (const Config& config :
       {keras_regularizer("L1", {{"l1", 0.01}}), keras_regularizer("L2", {{"l2", 0.25}}),
        keras_regularizer("L1L2", {{"l1", 0.0}, {"l2", 0.5}})}) {
    const std::optional<Regularizer> regularizer = Regularizer::from_config(config);
    ASSERT_TRUE(regularizer.has_value());
    EXPECT_EQ(regularizer->class_name(), config["class_name"].get<std::string>());
    EXPECT_EQ(regularizer->get_config().dump(), config.dump());
  }
  const std::optional<Regularizer> l1l2 =
      Regularizer::from_config(keras_regularizer("L1L2", {{"l1", 0.125}, {"l2", 2.0}}));
  EXPECT_EQ(l1l2->l1_factor(), 0.125);
  EXPECT_EQ(l1l2->l2_factor(), 2.0);
}

TEST(RegularizerConfig, NullMeansNoRegularizer) {
  EXPECT_FALSE(Regularizer::from_config(nullptr).has_value());
  EXPECT_EQ(Regularizer::serialize(std::nullopt), Config(nullptr));
  EXPECT_EQ(Regularizer::serialize(Regularizer::l2(0.5)), Regularizer::l2(0.5).get_config());
}

TEST(RegularizerConfig, NamesGiveTheClassWithItsDefaults) {
  EXPECT_EQ(Regularizer::from_config("l1")->get_config(), keras_regularizer("L1", {{"l1", 0.01}}));
  EXPECT_EQ(Regularizer::from_config("L2")->get_config(), keras_regularizer("L2", {{"l2", 0.01}}));
  // to_snake_case("L1L2") is "l1l2"; "l1_l2" is the exported alias of the same class.
  for (const char* name : {"L1L2", "l1l2", "l1_l2"}) {
    EXPECT_EQ(Regularizer::from_config(name)->get_config(),
              keras_regularizer("L1L2", {{"l1", 0.0}, {"l2", 0.0}}))
        << name;
  }
  // A null factor takes the class's default, as L1(l1=None) does.
  EXPECT_EQ(Regularizer::from_config(keras_regularizer("L1", {{"l1", nullptr}}))->l1_factor(),
            0.01);
  EXPECT_EQ(Regularizer::from_config(keras_regularizer("L1L2", {{"l2", nullptr}}))->l2_factor(),
            0.0);
}

TEST(RegularizerConfig, FactorsAreWrittenAsFloats) {
  // Keras's get_config writes float(self.l2).
  EXPECT_EQ(Regularizer::from_config(keras_regularizer("L2", {{"l2", 1}}))->get_config().dump(),
            keras_regularizer("L2", {{"l2", 1.0}}).dump());
  EXPECT_NE(keras_regularizer("L2", {{"l2", 1}}).dump(),
            keras_regularizer("L2", {{"l2", 1.0}}).dump());
}

TEST(RegularizerErrors, FactorsAreCheckedLikeKerasValidateFloatArg) {
  expect_error([] { Regularizer::l1(-0.5); },
               "L1: invalid value for argument `l1`. Expected a non-negative float. Received: "
               "l1=-0.5.");
  expect_error([] { Regularizer::l1_l2(0.0, std::numeric_limits<double>::infinity()); },
               "L1L2: invalid value for argument `l2`. Expected a non-negative float. Received: "
               "l2=inf.");
  expect_error([] { Regularizer::l2(std::nan("")); },
               "L2: invalid value for argument `l2`. Expected a non-negative float. Received: "
               "l2=nan.");
  expect_error(
      [] {
        Regularizer::from_config(keras_regularizer("L2", {{"l2", "x"}}));
      },
      "L2: invalid value for argument `l2`. Expected a non-negative float. Received: "
      "l2=\"x\".");
}

TEST(RegularizerErrors, ConfigMistakesAndUnsupportedClasses) {
  expect_error(
      [] {
        Regularizer::from_config(keras_regularizer("L2", {{"l1", 0.1}}));
      },
      "L2: unrecognized keyword arguments in the config. Expected only the keys of "
      "L2.get_config(). Received: {'l1': 0.1}.");
  expect_error<NotSupportedError>(
      [] { Regularizer::from_config("orthogonal_regularizer"); },
      "Regularizer: unsupported regularizer. Expected one of L1, L2, L1L2. Received: "
      "regularizer=orthogonal_regularizer.");
  expect_error<NotSupportedError>(
      [] {
        Regularizer::from_config(
            keras_regularizer("OrthogonalRegularizer", {{"factor", 0.01}, {"mode", "rows"}}));
      },
      "Regularizer: unsupported regularizer. Expected one of L1, L2, L1L2. Received: "
      "regularizer=OrthogonalRegularizer.");
  expect_error([] { Regularizer::from_config(0.01); },
               "Regularizer: invalid regularizer config. Expected null, a name string or an "
               "object with a `class_name`. Received: regularizer=0.01.");
}

}  // namespace
}  // namespace kattn
