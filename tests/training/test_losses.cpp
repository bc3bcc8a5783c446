// Keras 3.16's losses: the numbers keras/src/losses/losses_test.py pins, values derived by hand
// from Keras's formulas (clipping regions included), gradients against central finite
// differences, configs and every validation message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/training/losses.hpp"

namespace kattn {
namespace {

using testing::message_of;

// The bounds of Keras's clip, as float32 applies them: 1e-7 and 1 - 2^-23.
const double kLow = static_cast<double>(static_cast<float>(1e-7));
const double kHigh = static_cast<double>(static_cast<float>(1.0 - 1e-7));

// Deterministic values in [lo, hi).
std::vector<float> values_in(int64_t count, double lo, double hi, uint32_t seed) {
  std::vector<float> out;
  uint32_t state = seed;
  for (int64_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    const double unit = static_cast<double>(state >> 8) / static_cast<double>(1u << 24);
    out.push_back(static_cast<float>(lo + (hi - lo) * unit));
  }
  return out;
}

// Central differences of compute().loss against compute().grad, element by element. The step
// actually taken is measured on the float32 values.
void expect_gradient_matches_finite_differences(const Loss& loss, const Tensor& y_true,
                                                const Tensor& y_pred,
                                                const Tensor* sample_weight = nullptr) {
  const LossValue value = loss.compute(y_true, y_pred, sample_weight);
  ASSERT_EQ(value.grad.shape(), y_pred.shape());
  const float h = 1e-3f;
  for (int64_t e = 0; e < y_pred.size(); ++e) {
    Tensor plus = y_pred.clone();
    Tensor minus = y_pred.clone();
    plus.data()[e] += h;
    minus.data()[e] -= h;
    const double step = static_cast<double>(plus.data()[e]) - static_cast<double>(minus.data()[e]);
    const double numeric = (loss.compute(y_true, plus, sample_weight).loss -
                            loss.compute(y_true, minus, sample_weight).loss) /
                           step;
    EXPECT_NEAR(value.grad.data()[e], numeric, 2e-4 * std::max(1.0, std::fabs(numeric)))
        << loss.class_name() << " element " << e;
  }
}

// keras losses_test: y_true = [[1, 9, 2], [-5, -2, 6]], y_pred = [[4, 8, 12], [8, 1, 3]].
// Squared errors: [9, 1, 100] and [169, 9, 9]; per-sample means 110/3 and 187/3.
Tensor mse_true() { return Tensor({2, 3}, {1, 9, 2, -5, -2, 6}); }
Tensor mse_pred() { return Tensor({2, 3}, {4, 8, 12, 8, 1, 3}); }

TEST(LossMeanSquaredError, KerasPinnedValues) {
  const MeanSquaredError mse;
  EXPECT_DOUBLE_EQ(mse.compute(mse_true(), mse_pred()).loss, 49.5);
  const Tensor scalar({}, {2.3f});
  EXPECT_NEAR(mse.compute(mse_true(), mse_pred(), &scalar).loss, 113.85, 1e-5);
  // sample_weight (2, 1): the per-sample losses (2,) gain an axis (expand_rank_1).
  const Tensor per_sample({2, 1}, {1.2f, 3.4f});
  EXPECT_NEAR(mse.compute(mse_true(), mse_pred(), &per_sample).loss, 767.8 / 6, 1e-5);
  const Tensor zero({}, {0.0f});
  EXPECT_DOUBLE_EQ(mse.compute(mse_true(), mse_pred(), &zero).loss, 0.0);
  EXPECT_DOUBLE_EQ(mse.compute(mse_true(), mse_true()).loss, 0.0);

  const MeanSquaredError sum({.reduction = "sum"});
  EXPECT_NEAR(sum.compute(mse_true(), mse_pred(), &scalar).loss, 227.69998, 1e-4);
  const MeanSquaredError weighted_mean({.reduction = "mean_with_sample_weight"});
  EXPECT_NEAR(weighted_mean.compute(mse_true(), mse_pred(), &per_sample).loss,
              (110.0 / 3 * 1.2 + 187.0 / 3 * 3.4) / (1.2 + 3.4), 1e-5);
}

TEST(LossMeanSquaredError, TimestepWeights) {
  // (2, 3, 1) inputs average over the last axis of length 1: per-sample losses (2, 3) are the
  // squared errors; sum([9, 1, 100, 169, 9, 9] * [3, 6, 5, 0, 4, 2]) / 6 = 587 / 6.
  const MeanSquaredError mse;
  const Tensor weights({2, 3}, {3, 6, 5, 0, 4, 2});
  const LossValue value =
      mse.compute(mse_true().reshape({2, 3, 1}), mse_pred().reshape({2, 3, 1}), &weights);
  EXPECT_NEAR(value.loss, 97.833336, 1e-5);
  // d/dy_pred = 2 (y_pred - y_true) * w / 6.
  EXPECT_FLOAT_EQ(value.grad(0, 2, 0), 2.0f * 10.0f * 5.0f / 6.0f);
  EXPECT_FLOAT_EQ(value.grad(1, 0, 0), 0.0f);
}

TEST(LossMeanSquaredError, RankOneTargetsGainAnAxis) {
  // keras test_base_function_reduction: y_true (3,) against y_pred (3, 1) gives three per-sample
  // losses: (4 - 3)^2, (8 - 0)^2, (12 - 1)^2.
  const MeanSquaredError mse;
  const LossValue value = mse.compute(Tensor({3}, {4, 8, 12}), Tensor({3, 1}, {3, 0, 1}));
  EXPECT_DOUBLE_EQ(value.loss, (1.0 + 64.0 + 121.0) / 3.0);
  EXPECT_EQ(value.grad.shape(), (Shape{3, 1}));
  EXPECT_FLOAT_EQ(value.grad(1, 0), 2.0f * (0.0f - 8.0f) / 3.0f);
}

TEST(LossMeanSquaredError, GradientMatchesFiniteDifferences) {
  const Tensor y_true({2, 3, 4}, values_in(24, -2, 2, 1));
  const Tensor y_pred({2, 3, 4}, values_in(24, -2, 2, 2));
  const Tensor weights({2, 3}, values_in(6, 0.1, 2, 3));
  expect_gradient_matches_finite_differences(MeanSquaredError(), y_true, y_pred, &weights);
  expect_gradient_matches_finite_differences(MeanSquaredError({.reduction = "sum"}), y_true,
                                             y_pred);
  expect_gradient_matches_finite_differences(
      MeanSquaredError({.reduction = "mean_with_sample_weight"}), y_true, y_pred, &weights);
}

TEST(LossBinaryCrossentropy, KerasPinnedValues) {
  const BinaryCrossentropy bce;
  const Tensor eye({3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  // All correct: each entry sits on a clip bound, -log(1 - 2^-23) or -log(1 - 1e-7).
  EXPECT_NEAR(bce.compute(eye, eye).loss, 0.0, 2e-7);
  const Tensor pred({3, 3}, {0.9f, 0.1f, 0.2f, 0.3f, 0.8f, 0.1f, 0.1f, 0.2f, 0.7f});
  EXPECT_NEAR(bce.compute(eye, pred).loss, 0.20046903, 1e-6);

  // [[1, 0], [1, 0]] against [[1, 1], [1, 0]]: the (0, 1) entry is clipped to 1 - 2^-23 and
  // costs -log(2^-23) = 15.942385; the three others cost about 1e-7 each.
  const Tensor t({2, 2}, {1, 0, 1, 0});
  const Tensor p({2, 2}, {1, 1, 1, 0});
  EXPECT_NEAR(bce.compute(t, p).loss, 3.98559, 1e-5);
  const Tensor scalar({}, {2.3f});
  EXPECT_NEAR(bce.compute(t, p, &scalar).loss, 9.1668, 1e-4);
  const Tensor per_sample({2, 1}, {1.2f, 3.4f});
  EXPECT_NEAR(bce.compute(t, p, &per_sample).loss, 4.7827, 1e-4);

  const BinaryCrossentropy logits({.from_logits = true});
  const Tensor lt({2, 3}, {1, 0, 1, 0, 1, 1});
  const Tensor lx({2, 3}, {10, -10, 10, 10, 10, -10});
  EXPECT_NEAR(logits.compute(lt, lx).loss, 3.3333, 1e-4);
  EXPECT_NEAR(logits.compute(lt, lx, &scalar).loss, 7.666, 1e-3);
  const Tensor four_three({2}, {4, 3});
  EXPECT_NEAR(logits.compute(lt, lx, &four_three).loss, 10.0, 1e-3);
  EXPECT_NEAR(logits.compute(eye, Tensor({3, 3}, {10, -10, -10, -10, 10, -10, -10, -10, 10})).loss,
              0.0, 1e-4);
}

TEST(LossBinaryCrossentropy, LabelSmoothing) {
  // z = [1, 0, 1] * 0.9 + 0.05 = [0.95, 0.05, 0.95]; for x = [10, -10, -10] the stable form
  // gives 0.5, 0.5 and 9.5, each plus log1p(exp(-10)).
  const BinaryCrossentropy bce({.from_logits = true, .label_smoothing = 0.1});
  const double expected = (10.5 + 3.0 * std::log1p(std::exp(-10.0))) / 3.0;
  EXPECT_NEAR(bce.compute(Tensor({1, 3}, {1, 0, 1}), Tensor({1, 3}, {10, -10, -10})).loss, expected,
              1e-12);
  EXPECT_NEAR(expected, (10.0 + 5.0 * 0.1) / 3.0, 1e-3);  // keras test_label_smoothing
}

TEST(LossBinaryCrossentropy, ClippingRegions) {
  const BinaryCrossentropy bce({.reduction = "sum"});
  // y_pred at 0, 1, below 0 and above 1, each against both labels.
  const Tensor t({1, 8}, {0, 1, 0, 1, 0, 1, 0, 1});
  const Tensor p({1, 8}, {0, 0, 1, 1, -0.5f, -0.5f, 1.5f, 1.5f});
  const LossValue value = bce.compute(t, p);
  const double low = -std::log(kLow);           // label 1 at the lower bound
  const double high = -std::log(1.0 - kHigh);   // label 0 at the upper bound: 15.942385
  const double at_low = -std::log(1.0 - kLow);  // label 0 at the lower bound
  const double at_high = -std::log(kHigh);      // label 1 at the upper bound
  EXPECT_NEAR(high, 15.942385152878742, 1e-12);
  EXPECT_NEAR(value.loss, (2 * (at_low + low) + 2 * (high + at_high)) / 8.0, 1e-12);
  // The clip binds at every entry: no gradient flows.
  for (int64_t e = 0; e < 8; ++e) EXPECT_EQ(value.grad.data()[e], 0.0f) << e;

  // Just inside the bounds the gradient is the derivative of the clipped expression:
  // d/dq -(z log q + (1 - z) log(1 - q)) = -(z / q - (1 - z) / (1 - q)), over the 2 entries.
  const BinaryCrossentropy mean;
  const float q = 0.25f;
  const LossValue inside = mean.compute(Tensor({1, 2}, {1, 0}), Tensor({1, 2}, {q, q}));
  EXPECT_FLOAT_EQ(inside.grad(0, 0), static_cast<float>(-1.0 / 0.25 / 2.0));
  EXPECT_FLOAT_EQ(inside.grad(0, 1), static_cast<float>(1.0 / 0.75 / 2.0));
}

TEST(LossBinaryCrossentropy, LogitsAgreeWithProbabilities) {
  const std::vector<float> logits = values_in(12, -4, 4, 7);
  std::vector<float> probabilities;
  for (float x : logits) probabilities.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-x))));
  const Tensor y_true({3, 4}, values_in(12, 0, 1, 8));
  const LossValue from_logits =
      BinaryCrossentropy({.from_logits = true}).compute(y_true, Tensor({3, 4}, logits));
  const LossValue from_probs = BinaryCrossentropy().compute(y_true, Tensor({3, 4}, probabilities));
  EXPECT_NEAR(from_logits.loss, from_probs.loss, 1e-6);
  // Chain rule through the sigmoid: dL/dx = dL/dp * p (1 - p).
  for (int64_t e = 0; e < 12; ++e) {
    const double p = static_cast<double>(probabilities[static_cast<size_t>(e)]);
    EXPECT_NEAR(from_logits.grad.data()[e], from_probs.grad.data()[e] * p * (1 - p), 1e-6);
  }
}

TEST(LossBinaryCrossentropy, GradientMatchesFiniteDifferences) {
  const Tensor y_true({2, 3, 4}, values_in(24, 0, 1, 11));
  const Tensor probabilities({2, 3, 4}, values_in(24, 0.2, 0.8, 12));
  const Tensor logits({2, 3, 4}, values_in(24, -3, 3, 13));
  const Tensor weights({2, 4}, values_in(8, 0.5, 1.5, 14));
  expect_gradient_matches_finite_differences(BinaryCrossentropy(), y_true, probabilities);
  expect_gradient_matches_finite_differences(
      BinaryCrossentropy({.label_smoothing = 0.2, .axis = 1}), y_true, probabilities, &weights);
  expect_gradient_matches_finite_differences(BinaryCrossentropy({.from_logits = true}), y_true,
                                             logits);
  expect_gradient_matches_finite_differences(
      BinaryCrossentropy({.from_logits = true, .axis = 1, .reduction = "sum"}), y_true, logits,
      &weights);
}

TEST(LossBinaryCrossentropy, AxisAveragesThatAxis) {
  // axis=0 of (2, 2): per-sample losses are the column means.
  const BinaryCrossentropy bce({.axis = 0, .reduction = "sum"});
  const Tensor t({2, 2}, {1, 0, 0, 1});
  const Tensor p({2, 2}, {0.5f, 0.25f, 0.5f, 0.75f});
  const double expected =
      (std::log(2.0) + std::log(2.0)) / 2.0 + (-std::log(0.75) - std::log(0.75)) / 2.0;
  EXPECT_NEAR(bce.compute(t, p).loss, expected, 1e-12);
}

TEST(LossSparseCategoricalCrossentropy, KerasPinnedValues) {
  const SparseCategoricalCrossentropy scce;
  const Tensor eye({3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  EXPECT_NEAR(scce.compute(Tensor({3, 1}, {0, 1, 2}), eye).loss, 0.0, 1e-3);

  // Probabilities are normalized first: the second row sums to 1.99, so its label keeps
  // 0.89 / 1.99; -mean(log([0.9, 0.89 / 1.99, 0.94])) = 0.32397.
  const Tensor pred({3, 3}, {0.9f, 0.05f, 0.05f, 0.5f, 0.89f, 0.6f, 0.05f, 0.01f, 0.94f});
  const Tensor labels({3}, {0, 1, 2});
  const Tensor column({3, 1}, {0, 1, 2});
  EXPECT_NEAR(scce.compute(labels, pred).loss, 0.3239681, 1e-6);
  const Tensor scalar({}, {2.3f});
  EXPECT_NEAR(scce.compute(column, pred, &scalar).loss, 0.7449, 1e-3);
  const Tensor weights({3, 1}, {1.2f, 3.4f, 5.6f});
  EXPECT_NEAR(scce.compute(column, pred, &weights).loss, 1.0696, 1e-3);

  const SparseCategoricalCrossentropy logits({.from_logits = true});
  const Tensor x({3, 3}, {8, 1, 1, 0, 9, 1, 2, 3, 5});
  EXPECT_NEAR(logits.compute(labels, x).loss, 0.0573, 1e-3);
  EXPECT_NEAR(logits.compute(column, x, &scalar).loss, 0.1317, 1e-3);
  EXPECT_NEAR(logits.compute(column, x, &weights).loss, 0.31829, 1e-4);
  // keras test_no_reduction's per-sample values, one label at a time.
  const double per_sample[] = {0.001822, 0.000459, 0.169846};
  for (int64_t n = 0; n < 3; ++n) {
    const Tensor one({1}, {static_cast<float>(n)});
    EXPECT_NEAR(logits.compute(one, x.slice(0, n, n + 1)).loss, per_sample[n], 1e-6);
  }

  // The docstring: y_true [1, 2], y_pred [[0.05, 0.95, 0], [0.1, 0.8, 0.1]].
  const Tensor doc_true({2}, {1, 2});
  const Tensor doc_pred({2, 3}, {0.05f, 0.95f, 0.0f, 0.1f, 0.8f, 0.1f});
  EXPECT_NEAR(scce.compute(doc_true, doc_pred).loss, 1.177, 1e-3);
  const Tensor doc_weights({2}, {0.3f, 0.7f});
  EXPECT_NEAR(scce.compute(doc_true, doc_pred, &doc_weights).loss, 0.814, 1e-3);
  EXPECT_NEAR(SparseCategoricalCrossentropy({.reduction = "sum"}).compute(doc_true, doc_pred).loss,
              2.354, 1e-3);
}

TEST(LossSparseCategoricalCrossentropy, IgnoreClass) {
  // keras test_ignore_class: the -1 label is masked; the other costs 1.480129. With the default
  // reduction the sum is divided by the one unmasked label.
  const SparseCategoricalCrossentropy scce({.from_logits = true, .ignore_class = -1});
  const Tensor x({1, 2, 3}, {0.854f, 0.698f, 0.598f, 0.088f, 0.86f, 0.018f});
  for (const Tensor& labels : {Tensor({1, 2}, {-1, 2}), Tensor({1, 2, 1}, {-1, 2})}) {
    const LossValue value = scce.compute(labels, x);
    EXPECT_NEAR(value.loss, 1.480129, 1e-6);
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(value.grad(0, 0, j), 0.0f);
  }
  // "sum" keeps the masked entries at weight 0 and does not rescale.
  const SparseCategoricalCrossentropy sum(
      {.from_logits = true, .ignore_class = -1, .reduction = "sum"});
  EXPECT_NEAR(sum.compute(Tensor({1, 2}, {-1, 2}), x).loss, 1.480129, 1e-6);
  // Every label ignored: divide_no_nan gives 0.
  EXPECT_EQ(scce.compute(Tensor({1, 2}, {-1, -1}), x).loss, 0.0);
  // An ignored label may lie outside [0, C), as Keras's void classes (-1, 255) do.
  const SparseCategoricalCrossentropy void_class({.ignore_class = 255});
  EXPECT_NEAR(
      void_class.compute(Tensor({2}, {255, 0}), Tensor({2, 2}, {0.5f, 0.5f, 0.25f, 0.75f})).loss,
      -std::log(0.25), 1e-7);
  expect_gradient_matches_finite_differences(
      SparseCategoricalCrossentropy({.from_logits = true, .ignore_class = 1}),
      Tensor({2, 3}, {0, 1, 2, 1, 2, 0}), Tensor({2, 3, 4}, values_in(24, -2, 2, 21)));
}

TEST(LossSparseCategoricalCrossentropy, ClippingAndNormalization) {
  // The label's normalized probability 0 is clipped to 1e-7: loss -log(1e-7), no gradient.
  const SparseCategoricalCrossentropy scce;
  const LossValue zero = scce.compute(Tensor({1}, {2}), Tensor({1, 3}, {0.5f, 0.5f, 0.0f}));
  EXPECT_NEAR(zero.loss, -std::log(kLow), 1e-9);
  for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(zero.grad(0, j), 0.0f);
  // A one-hot row is clipped at 1 - 2^-23.
  const LossValue one = scce.compute(Tensor({1}, {0}), Tensor({1, 2}, {1.0f, 0.0f}));
  EXPECT_NEAR(one.loss, -std::log(kHigh), 1e-12);
  EXPECT_EQ(one.grad(0, 0), 0.0f);
  // Inside the clip, through p = y / s: d(-log p_t)/dy_j = -([j == t] - p_t) / (p_t s).
  // y = [1, 3], t = 1: s = 4, p_t = 0.75, so dy_0 = 0.75 / 3 = 0.25 and dy_1 = -0.25 / 3.
  const LossValue inside = scce.compute(Tensor({1}, {1}), Tensor({1, 2}, {1.0f, 3.0f}));
  EXPECT_NEAR(inside.loss, -std::log(0.75), 1e-12);
  EXPECT_FLOAT_EQ(inside.grad(0, 0), 0.25f);
  EXPECT_FLOAT_EQ(inside.grad(0, 1), static_cast<float>(-1.0 / 12.0));
}

TEST(LossSparseCategoricalCrossentropy, LogitsAgreeWithProbabilities) {
  const std::vector<float> logits = values_in(12, -3, 3, 31);
  std::vector<float> probabilities;
  for (int64_t n = 0; n < 3; ++n) {
    double total = 0.0;
    for (int64_t j = 0; j < 4; ++j) total += std::exp(logits[static_cast<size_t>(n * 4 + j)]);
    for (int64_t j = 0; j < 4; ++j) {
      probabilities.push_back(
          static_cast<float>(std::exp(logits[static_cast<size_t>(n * 4 + j)]) / total));
    }
  }
  const Tensor labels({3}, {3, 0, 2});
  const double from_logits = SparseCategoricalCrossentropy({.from_logits = true})
                                 .compute(labels, Tensor({3, 4}, logits))
                                 .loss;
  const double from_probs =
      SparseCategoricalCrossentropy().compute(labels, Tensor({3, 4}, probabilities)).loss;
  EXPECT_NEAR(from_logits, from_probs, 1e-6);
}

TEST(LossSparseCategoricalCrossentropy, GradientMatchesFiniteDifferences) {
  const Tensor labels({2, 3}, {0, 3, 1, 2, 2, 0});
  const Tensor probabilities({2, 3, 4}, values_in(24, 0.2, 1.0, 41));
  const Tensor logits({2, 3, 4}, values_in(24, -3, 3, 42));
  const Tensor weights({2, 3}, values_in(6, 0.1, 2, 43));
  expect_gradient_matches_finite_differences(SparseCategoricalCrossentropy(), labels, probabilities,
                                             &weights);
  expect_gradient_matches_finite_differences(SparseCategoricalCrossentropy({.from_logits = true}),
                                             labels, logits);
  expect_gradient_matches_finite_differences(
      SparseCategoricalCrossentropy({.from_logits = true, .reduction = "mean_with_sample_weight"}),
      labels, logits, &weights);
}

TEST(LossReduction, SumMeanAndWeightedMean) {
  // Per-sample losses of mse_true / mse_pred: 110/3 and 187/3.
  const Tensor weights({2}, {1.0f, 3.0f});
  const double a = 110.0 / 3.0;
  const double b = 187.0 / 3.0;
  EXPECT_NEAR(
      MeanSquaredError({.reduction = "mean"}).compute(mse_true(), mse_pred(), &weights).loss,
      (a + 3 * b) / 2, 1e-9);
  EXPECT_NEAR(MeanSquaredError({.reduction = "sum"}).compute(mse_true(), mse_pred(), &weights).loss,
              a + 3 * b, 1e-9);
  const MeanSquaredError weighted({.reduction = "mean_with_sample_weight"});
  EXPECT_NEAR(weighted.compute(mse_true(), mse_pred(), &weights).loss, (a + 3 * b) / 4, 1e-9);
  // Without weights it divides by the entry count; with weights summing to 0 it gives 0.
  EXPECT_NEAR(weighted.compute(mse_true(), mse_pred()).loss, (a + b) / 2, 1e-9);
  const Tensor zeros({2}, {0.0f, 0.0f});
  const LossValue none = weighted.compute(mse_true(), mse_pred(), &zeros);
  EXPECT_EQ(none.loss, 0.0);
  for (int64_t e = 0; e < 6; ++e) EXPECT_EQ(none.grad.data()[e], 0.0f);
  // A weight of a larger shape broadcasts the per-sample losses: (2,) against (3, 2) weighs
  // each loss three times and divides by 6.
  const Tensor wide({3, 2}, {1, 1, 1, 1, 1, 1});
  EXPECT_NEAR(MeanSquaredError().compute(mse_true(), mse_pred(), &wide).loss, (a + b) / 2, 1e-9);
}

TEST(LossReduction, ZeroDimensionalLossesAreNotDivided) {
  // (3,) against (3,): mean over the last axis leaves a 0-d loss, which reduce_values returns
  // as it is, weighted but not divided by the weight.
  const MeanSquaredError weighted({.reduction = "mean_with_sample_weight"});
  const Tensor two({}, {2.0f});
  EXPECT_NEAR(weighted.compute(Tensor({3}, {0, 0, 0}), Tensor({3}, {1, 2, 3}), &two).loss,
              2.0 * 14.0 / 3.0, 1e-9);
}

TEST(LossErrors, Messages) {
  EXPECT_EQ(message_of<ValueError>([] { MeanSquaredError({.reduction = "abc"}); }),
            "MeanSquaredError 'mean_squared_error': invalid value for argument `reduction`. "
            "Expected one of \"sum_over_batch_size\", \"sum\", \"mean\", "
            "\"mean_with_sample_weight\", \"none\" or None. Received: reduction=abc.");
  EXPECT_EQ(message_of<NotSupportedError>([] { MeanSquaredError({.reduction = "none"}); }),
            "MeanSquaredError 'mean_squared_error': reduction=None returns the per-sample losses, "
            "which compute() cannot reduce. Expected one of \"sum_over_batch_size\", \"sum\", "
            "\"mean\", \"mean_with_sample_weight\". Received: reduction=none.");

  // keras test_shape_mismatch: "must have the same shape".
  EXPECT_EQ(message_of<ValueError>([] {
              BinaryCrossentropy().compute(Tensor({3, 1}, {0, 1, 2}), Tensor({3, 3}));
            }),
            "BinaryCrossentropy 'binary_crossentropy': `y_true` and `y_pred` must have the same "
            "shape. Expected y_true.shape == y_pred.shape, up to a trailing axis of length 1. "
            "Received: y_true.shape=(3, 1), y_pred.shape=(3, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              MeanSquaredError({.name = "m"}).compute(Tensor({2, 3}), Tensor({2, 4}));
            }),
            "MeanSquaredError 'm': `y_true` and `y_pred` must have the same shape. Expected "
            "y_true.shape == y_pred.shape, up to a trailing axis of length 1. Received: "
            "y_true.shape=(2, 3), y_pred.shape=(2, 4).");
  EXPECT_EQ(message_of<ValueError>([] { MeanSquaredError().compute(Tensor(), Tensor()); }),
            "MeanSquaredError 'mean_squared_error': `y_pred` must be at least rank 1 to average "
            "over axis -1. Expected a tensor of rank >= 1. Received: y_pred.shape=().");
  EXPECT_EQ(message_of<ValueError>([] {
              BinaryCrossentropy({.axis = 2}).compute(Tensor({2, 3}), Tensor({2, 3}));
            }),
            "BinaryCrossentropy 'binary_crossentropy': `axis` is out of range for y_pred. Expected "
            "an axis in [-2, 2). Received: axis=2, y_pred.shape=(2, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              const Tensor weights({3}, {1, 1, 1});
              MeanSquaredError().compute(Tensor({2, 3}), Tensor({2, 3}), &weights);
            }),
            "MeanSquaredError 'mean_squared_error': `sample_weight` does not broadcast against "
            "the per-sample losses. Expected a shape that broadcasts with the per-sample loss "
            "shape (2,). Received: sample_weight.shape=(3,).");

  const SparseCategoricalCrossentropy scce;
  EXPECT_EQ(message_of<ValueError>([&] {
              scce.compute(Tensor({2, 2}), Tensor({3, 4}));
            }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': `y_true` and "
            "`y_pred` must have the same shape up until the last dimension. Expected y_true.shape "
            "== y_pred.shape[:-1], or that with a trailing axis of length 1. Received: "
            "y_true.shape=(2, 2), y_pred.shape=(3, 4).");
  EXPECT_EQ(message_of<ValueError>([&] { scce.compute(Tensor(), Tensor()); }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': `y_pred` must be at "
            "least rank 1. Expected y_pred of shape (..., num_classes). Received: "
            "y_pred.shape=().");
  EXPECT_EQ(message_of<ValueError>([&] {
              scce.compute(Tensor({2, 2}, {0, 1, 3, 0}), Tensor({2, 2, 3}));
            }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': a label in `y_true` "
            "is out of range. Expected integer class indices in [0, 3) (y_pred.shape[-1]). "
            "Received: y_true[1, 0]=3.0.");
  EXPECT_EQ(message_of<ValueError>([&] {
              scce.compute(Tensor({2}, {-1, 0}), Tensor({2, 3}));
            }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': a label in `y_true` "
            "is out of range. Expected integer class indices in [0, 3) (y_pred.shape[-1]). "
            "Received: y_true[0]=-1.0.");
  EXPECT_EQ(message_of<ValueError>([] {
              SparseCategoricalCrossentropy({.ignore_class = -1})
                  .compute(Tensor({2}, {0, 1.5f}), Tensor({2, 3}));
            }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': labels in `y_true` "
            "must be integers. Expected integer class indices in [0, 3) (y_pred.shape[-1]) or "
            "ignore_class=-1. Received: y_true[1]=1.5.");
  EXPECT_EQ(message_of<ValueError>([&] {
              scce.compute(Tensor({1}, {NAN}), Tensor({1, 3}));
            }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': labels in `y_true` "
            "must be integers. Expected integer class indices in [0, 3) (y_pred.shape[-1]). "
            "Received: y_true[0]=nan.");
}

TEST(LossConfig, GetConfigAndRoundTrip) {
  EXPECT_EQ(MeanSquaredError({.name = "mymse"}).get_config(),
            (Config{{"name", "mymse"}, {"reduction", "sum_over_batch_size"}}));
  EXPECT_EQ(BinaryCrossentropy().get_config(), (Config{{"name", "binary_crossentropy"},
                                                       {"reduction", "sum_over_batch_size"},
                                                       {"from_logits", false},
                                                       {"label_smoothing", 0.0},
                                                       {"axis", -1}}));
  EXPECT_EQ(SparseCategoricalCrossentropy().get_config(),
            (Config{{"name", "sparse_categorical_crossentropy"},
                    {"reduction", "sum_over_batch_size"},
                    {"from_logits", false},
                    {"ignore_class", nullptr}}));

  const BinaryCrossentropy bce(
      {.from_logits = true, .label_smoothing = 0.2, .axis = 0, .reduction = "sum", .name = "bce"});
  EXPECT_EQ(BinaryCrossentropy::from_config(bce.get_config())->get_config(), bce.get_config());
  const SparseCategoricalCrossentropy scce(
      {.from_logits = true, .ignore_class = 255, .reduction = "mean", .name = "scce"});
  const auto back = SparseCategoricalCrossentropy::from_config(scce.get_config());
  EXPECT_EQ(back->get_config(), scce.get_config());
  EXPECT_EQ(back->ignore_class(), 255);
  const MeanSquaredError mse({.reduction = "mean_with_sample_weight", .name = "m"});
  EXPECT_EQ(MeanSquaredError::from_config(mse.get_config())->get_config(), mse.get_config());

  // Keras configs may carry dtype (float32 only) and a null name (auto_name).
  const auto named = MeanSquaredError::from_config(Config{{"name", nullptr},
                                                          {"dtype",
                                                           {{"module", "keras"},
                                                            {"class_name", "DTypePolicy"},
                                                            {"config", {{"name", "float32"}}},
                                                            {"registered_name", nullptr}}}});
  EXPECT_EQ(named->name(), "mean_squared_error");
  EXPECT_EQ(BinaryCrossentropy::from_config(Config{{"name", ""}})->name(), "binary_crossentropy");
  EXPECT_EQ(message_of<NotSupportedError>([] {
              MeanSquaredError::from_config(Config{{"dtype", "bfloat16"}});
            }),
            "MeanSquaredError: unsupported dtype policy. Expected one of the supported policies: "
            "float32. "
            "Received: dtype=bfloat16.");
  EXPECT_EQ(message_of<NotSupportedError>([] {
              MeanSquaredError::from_config(Config{{"name", "m"}, {"reduction", nullptr}});
            }),
            "MeanSquaredError 'm': reduction=None returns the per-sample losses, which compute() "
            "cannot reduce. Expected one of \"sum_over_batch_size\", \"sum\", \"mean\", "
            "\"mean_with_sample_weight\". Received: reduction=none.");
  EXPECT_EQ(message_of<ValueError>([] {
              BinaryCrossentropy::from_config(Config{{"name", "b"}, {"gamma", 2.0}});
            }),
            "BinaryCrossentropy 'b': unrecognized keyword arguments in the config. Expected only "
            "the keys of BinaryCrossentropy.get_config(). Received: {'gamma': 2.0}.");
}

TEST(LossConfig, DeserializeNamesAndObjects) {
  struct Case {
    const char* identifier;
    const char* class_name;
    const char* name;
  };
  for (const Case& c :
       {Case{"mse", "MeanSquaredError", "mse"}, Case{"MSE", "MeanSquaredError", "MSE"},
        Case{"mean_squared_error", "MeanSquaredError", "mean_squared_error"},
        Case{"MeanSquaredError", "MeanSquaredError", "mean_squared_error"},
        Case{"bce", "BinaryCrossentropy", "bce"},
        Case{"binary_crossentropy", "BinaryCrossentropy", "binary_crossentropy"},
        Case{"BinaryCrossentropy", "BinaryCrossentropy", "binary_crossentropy"},
        Case{"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
             "sparse_categorical_crossentropy"},
        Case{"SparseCategoricalCrossentropy", "SparseCategoricalCrossentropy",
             "sparse_categorical_crossentropy"}}) {
    const auto loss = deserialize_loss(c.identifier);
    EXPECT_EQ(loss->class_name(), c.class_name) << c.identifier;
    EXPECT_EQ(loss->name(), c.name) << c.identifier;
  }

  const SparseCategoricalCrossentropy scce({.from_logits = true, .name = "scce"});
  const Config serialized = serialize_loss(scce);
  EXPECT_EQ(serialized["module"], "keras.losses");
  EXPECT_EQ(serialized["class_name"], "SparseCategoricalCrossentropy");
  EXPECT_TRUE(serialized["registered_name"].is_null());
  const auto back = deserialize_loss(serialized);
  EXPECT_EQ(back->get_config(), scce.get_config());
  const auto copy = back->clone();
  EXPECT_EQ(copy->get_config(), scce.get_config());

  const auto fn = deserialize_loss(Config{{"module", "keras.losses"},
                                          {"class_name", "function"},
                                          {"config", "binary_crossentropy"},
                                          {"registered_name", "binary_crossentropy"}});
  EXPECT_EQ(fn->class_name(), "BinaryCrossentropy");
  const auto wrapper = deserialize_loss(Config{{"module", "keras.losses"},
                                               {"class_name", "LossFunctionWrapper"},
                                               {"config",
                                                {{"name", "loss_fn"},
                                                 {"reduction", "sum"},
                                                 {"fn",
                                                  {{"module", "keras.losses"},
                                                   {"class_name", "function"},
                                                   {"config", "binary_crossentropy"},
                                                   {"registered_name", "binary_crossentropy"}}},
                                                 {"from_logits", true}}},
                                               {"registered_name", nullptr}});
  ASSERT_EQ(wrapper->class_name(), "BinaryCrossentropy");
  EXPECT_EQ(wrapper->name(), "loss_fn");
  EXPECT_EQ(wrapper->reduction(), "sum");
  EXPECT_TRUE(dynamic_cast<const BinaryCrossentropy&>(*wrapper).from_logits());

  EXPECT_EQ(message_of<NotSupportedError>([] { deserialize_loss("CategoricalCrossentropy"); }),
            "Loss: unsupported loss. Expected one of the supported losses: MeanSquaredError "
            "(\"mse\", \"mean_squared_error\"), BinaryCrossentropy (\"bce\", "
            "\"binary_crossentropy\"), SparseCategoricalCrossentropy "
            "(\"sparse_categorical_crossentropy\"). Received: loss=CategoricalCrossentropy.");
  EXPECT_THROW(deserialize_loss("mae"), NotSupportedError);
  EXPECT_THROW(deserialize_loss(Config{{"class_name", "Huber"}, {"config", Config::object()}}),
               NotSupportedError);
  EXPECT_EQ(message_of<ValueError>([] { deserialize_loss("typo"); }),
            "Loss: could not interpret loss identifier. Expected a loss name or a serialized loss "
            "object. Received: identifier=\"typo\".");
  EXPECT_THROW(deserialize_loss(Config(3)), ValueError);
}

}  // namespace
}  // namespace kattn
