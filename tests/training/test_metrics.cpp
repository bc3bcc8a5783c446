// Keras 3.16's Mean, BinaryAccuracy and SparseCategoricalAccuracy: the values Keras's docstrings
// and tests pin, sample-weight reduction by hand, streaming, configs and validation messages.
#include <gtest/gtest.h>

#include <string>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/training/metrics.hpp"

namespace kattn {
namespace {

using testing::message_of;

TEST(MetricMean, KerasDocstring) {
  Mean mean;
  mean.update_state(Tensor({4}, {1, 3, 5, 7}));
  EXPECT_FLOAT_EQ(mean.result(), 4.0f);
  mean.reset_state();
  const Tensor weights({4}, {1, 1, 0, 0});
  mean.update_state(Tensor({4}, {1, 3, 5, 7}), &weights);
  EXPECT_FLOAT_EQ(mean.result(), 2.0f);
  EXPECT_FLOAT_EQ(mean.total(), 4.0f);
  EXPECT_FLOAT_EQ(mean.count(), 2.0f);
}

TEST(MetricMean, StreamsScalarsAndBatches) {
  Mean mean({.name = "loss"});
  EXPECT_EQ(mean.result(), 0.0f);  // divide_no_nan before any update
  mean.update_state(2.0);          // a 0-d value counts as one sample
  mean.update_state(Tensor({}, {4.0f}));
  mean.update_state(Tensor({2}, {6, 8}));
  EXPECT_FLOAT_EQ(mean.result(), 5.0f);
  EXPECT_FLOAT_EQ(mean.count(), 4.0f);
  // The scalar path: total += value * weight, count += weight.
  mean.update_state(10.0, 4.0);
  EXPECT_FLOAT_EQ(mean.result(), (20.0f + 40.0f) / 8.0f);
  mean.reset_state();
  EXPECT_EQ(mean.total(), 0.0f);
  EXPECT_EQ(mean.count(), 0.0f);
}

TEST(MetricMean, SampleWeightsReduceLikeKeras) {
  const Tensor values({2, 2}, {1, 2, 3, 4});
  // Weights (2,): values are averaged to (2,) = [1.5, 3.5] first; total 1.5, count 1.
  Mean per_sample;
  const Tensor rows({2}, {1, 0});
  per_sample.update_state(values, &rows);
  EXPECT_FLOAT_EQ(per_sample.total(), 1.5f);
  EXPECT_FLOAT_EQ(per_sample.count(), 1.0f);
  // Weights (2, 2): values * weights = [[1, 0], [3, 4]], averaged over axis 1 to [0.5, 3.5];
  // the weights average to [0.5, 1]. 4 / 1.5.
  Mean elementwise;
  const Tensor cells({2, 2}, {1, 0, 1, 1});
  elementwise.update_state(values, &cells);
  EXPECT_FLOAT_EQ(elementwise.total(), 4.0f);
  EXPECT_FLOAT_EQ(elementwise.count(), 1.5f);
  EXPECT_FLOAT_EQ(elementwise.result(), 4.0f / 1.5f);
  // A 0-d weight: values average to one value, counted with that weight.
  Mean scalar;
  const Tensor two({}, {2.0f});
  scalar.update_state(Tensor({4}, {1, 3, 5, 7}), &two);
  EXPECT_FLOAT_EQ(scalar.total(), 8.0f);
  EXPECT_FLOAT_EQ(scalar.count(), 2.0f);
  // (2, 1) weights against (2,) values: the values gain an axis (squeeze_or_expand).
  Mean column;
  const Tensor col({2, 1}, {0.5f, 1.5f});
  column.update_state(Tensor({2}, {2, 4}), &col);
  EXPECT_FLOAT_EQ(column.total(), 7.0f);
  EXPECT_FLOAT_EQ(column.count(), 2.0f);
  // Without weights, rank-2 values count one sample per row.
  Mean rows_only;
  rows_only.update_state(values);
  EXPECT_FLOAT_EQ(rows_only.count(), 2.0f);
  EXPECT_FLOAT_EQ(rows_only.result(), 2.5f);
}

TEST(MetricMean, ConfigAndErrors) {
  const Mean mean({.name = "loss"});
  EXPECT_EQ(mean.get_config(), (Config{{"name", "loss"}, {"dtype", "float32"}}));
  EXPECT_EQ(Mean::from_config(mean.get_config())->get_config(), mean.get_config());
  EXPECT_EQ(message_of<NotSupportedError>([] {
              Mean::from_config(Config{{"name", "m"}, {"dtype", "float16"}});
            }),
            "Mean 'm': unsupported dtype policy. Expected one of the supported policies: float32. "
            "Received: dtype=float16.");
  EXPECT_EQ(message_of<ValueError>([] {
              Mean m;
              const Tensor weights({3}, {1, 1, 1});
              m.update_state(Tensor({2}, {1, 2}), &weights);
            }),
            "Mean 'mean': `sample_weight` cannot be broadcast to the values. Expected a shape "
            "that broadcasts to (2,). Received: sample_weight.shape=(3,).");
}

TEST(MetricBinaryAccuracy, KerasDocstring) {
  BinaryAccuracy accuracy;
  const Tensor y_true({4, 1}, {1, 1, 0, 0});
  const Tensor y_pred({4, 1}, {0.98f, 1.0f, 0.0f, 0.6f});
  accuracy.update_state(y_true, y_pred);
  EXPECT_FLOAT_EQ(accuracy.result(), 0.75f);
  accuracy.reset_state();
  const Tensor weights({4}, {1, 0, 0, 1});
  accuracy.update_state(y_true, y_pred, &weights);
  EXPECT_FLOAT_EQ(accuracy.result(), 0.5f);
}

TEST(MetricBinaryAccuracy, ThresholdAndStreaming) {
  // Per sample: the mean over the last axis of (y_true == (y_pred > threshold)).
  BinaryAccuracy accuracy({.threshold = 0.7});
  accuracy.update_state(Tensor({2, 2}, {1, 0, 1, 1}), Tensor({2, 2}, {0.8f, 0.7f, 0.6f, 0.9f}));
  // Row 0: 0.8 -> 1 matches, 0.7 -> 0 matches; row 1: 0.6 -> 0 misses, 0.9 -> 1 matches.
  EXPECT_FLOAT_EQ(accuracy.result(), 0.75f);
  accuracy.update_state(Tensor({2}, {1, 1}), Tensor({2}, {0.1f, 0.2f}));  // rank 1: one sample
  EXPECT_FLOAT_EQ(accuracy.total(), 1.5f);
  EXPECT_FLOAT_EQ(accuracy.count(), 3.0f);
  // Labels other than 0 and 1 never match.
  BinaryAccuracy soft;
  soft.update_state(Tensor({1, 2}, {0.9f, 0.1f}), Tensor({1, 2}, {0.9f, 0.1f}));
  EXPECT_EQ(soft.result(), 0.0f);
}

TEST(MetricBinaryAccuracy, ConfigAndErrors) {
  const BinaryAccuracy accuracy({.threshold = 0.3, .name = "acc"});
  EXPECT_EQ(accuracy.get_config(),
            (Config{{"name", "acc"}, {"dtype", "float32"}, {"threshold", 0.3}}));
  EXPECT_EQ(BinaryAccuracy::from_config(accuracy.get_config())->get_config(),
            accuracy.get_config());
  for (double threshold : {0.0, 1.0, -0.5}) {
    EXPECT_THROW(BinaryAccuracy({.threshold = threshold}), ValueError) << threshold;
  }
  EXPECT_EQ(message_of<ValueError>([] { BinaryAccuracy({.threshold = 1.5}); }),
            "BinaryAccuracy 'binary_accuracy': invalid value for argument `threshold`. Expected a "
            "value in interval (0, 1). Received: threshold=1.5.");
  EXPECT_EQ(message_of<ValueError>([] {
              BinaryAccuracy().update_state(Tensor({2, 3}), Tensor({2, 2}));
            }),
            "BinaryAccuracy 'binary_accuracy': `y_true` and `y_pred` must have the same shape. "
            "Expected y_true.shape == y_pred.shape, up to a trailing axis of length 1. Received: "
            "y_true.shape=(2, 3), y_pred.shape=(2, 2).");
}

TEST(MetricSparseCategoricalAccuracy, KerasDocstring) {
  SparseCategoricalAccuracy accuracy;
  const Tensor y_true({2, 1}, {2, 1});
  const Tensor y_pred({2, 3}, {0.1f, 0.6f, 0.3f, 0.05f, 0.95f, 0.0f});
  accuracy.update_state(y_true, y_pred);
  EXPECT_FLOAT_EQ(accuracy.result(), 0.5f);
  accuracy.reset_state();
  const Tensor weights({2}, {0.7f, 0.3f});
  accuracy.update_state(y_true, y_pred, &weights);
  EXPECT_FLOAT_EQ(accuracy.result(), 0.3f);
  // Labels of shape (2,) read the same.
  SparseCategoricalAccuracy flat;
  flat.update_state(Tensor({2}, {2, 1}), y_pred, &weights);
  EXPECT_FLOAT_EQ(flat.result(), 0.3f);
}

TEST(MetricSparseCategoricalAccuracy, ArgmaxTakesTheFirstMaximum) {
  SparseCategoricalAccuracy accuracy;
  // Ties go to the first index; logits work as well as probabilities.
  accuracy.update_state(Tensor({3}, {0, 1, 2}), Tensor({3, 3}, {2, 2, 1, 5, 5, 5, -1, -3, 4}));
  EXPECT_FLOAT_EQ(accuracy.total(), 2.0f);
  EXPECT_FLOAT_EQ(accuracy.count(), 3.0f);
  // Sequences: (B, T) labels against (B, T, C) scores average over T per sample.
  SparseCategoricalAccuracy sequences;
  sequences.update_state(Tensor({1, 2}, {1, 0}), Tensor({1, 2, 2}, {0.2f, 0.8f, 0.3f, 0.7f}));
  EXPECT_FLOAT_EQ(sequences.result(), 0.5f);
  EXPECT_FLOAT_EQ(sequences.count(), 1.0f);
}

TEST(MetricSparseCategoricalAccuracy, ConfigAndErrors) {
  const SparseCategoricalAccuracy accuracy({.name = "acc"});
  EXPECT_EQ(accuracy.get_config(), (Config{{"name", "acc"}, {"dtype", "float32"}}));
  EXPECT_EQ(SparseCategoricalAccuracy::from_config(accuracy.get_config())->name(), "acc");
  EXPECT_EQ(message_of<ValueError>([] {
              SparseCategoricalAccuracy().update_state(Tensor({3}), Tensor({2, 4}));
            }),
            "SparseCategoricalAccuracy 'sparse_categorical_accuracy': `y_true` and `y_pred` must "
            "have the same shape up until the last dimension. Expected y_true.shape == "
            "y_pred.shape[:-1], or that with a trailing axis of length 1. Received: "
            "y_true.shape=(3,), y_pred.shape=(2, 4).");
  EXPECT_EQ(message_of<ValueError>([] {
              SparseCategoricalAccuracy().update_state(Tensor({2}), Tensor({2, 0}));
            }),
            "SparseCategoricalAccuracy 'sparse_categorical_accuracy': `y_pred` needs a class axis "
            "to take the argmax over. Expected y_pred of shape (..., num_classes) with "
            "num_classes >= 1. Received: y_pred.shape=(2, 0).");
  EXPECT_THROW(SparseCategoricalAccuracy::from_config(Config{{"name", "acc"}, {"k", 5}}),
               ValueError);
}

}  // namespace
}  // namespace kattn
