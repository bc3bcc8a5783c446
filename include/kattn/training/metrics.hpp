// Keras 3.16's streaming metrics for training: Mean (the running loss), BinaryAccuracy and
// SparseCategoricalAccuracy. Each keeps Keras's two float32 state variables, `total` and
// `count`; result() is total / count, 0 when count is 0 (divide_no_nan).
//
// Mean.update_state(values (B, ...), sample_weight) mirrors
// keras.src.metrics.reduction_metrics.reduce_to_samplewise_values: the weights are aligned to the
// values' rank (squeeze_or_expand_to_same_rank), values are averaged down to the weights' rank,
// the weights are broadcast to the values, and both are averaged over every axis after the
// first. total += sum(values * weights); count += sum(weights), or B without weights (1 for a
// 0-d value).
//
// The accuracies are MeanMetricWrapper(fn): fn gives one value per sample and Mean averages them.
//   binary_accuracy(y_true, y_pred)          mean(y_true == (y_pred > threshold), axis=-1)
//   sparse_categorical_accuracy(y_true, y_pred (..., C))   y_true == argmax(y_pred, axis=-1)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// keras.metrics.Mean: the (weighted) mean of the values given so far.
class Mean {
 public:
  struct Args {
    std::string name = "mean";
  };

  Mean();
  explicit Mean(Args args);
  // Keras's from_config: name and dtype (null or "float32").
  static std::unique_ptr<Mean> from_config(const Config& config);

  // `sample_weight` may be null.
  void update_state(const Tensor& values, const Tensor* sample_weight = nullptr);
  // A scalar value (a batch's loss) with weight 1, or with `sample_weight`.
  void update_state(double value);
  void update_state(double value, double sample_weight);
  float result() const;
  void reset_state();

  float total() const { return total_; }
  float count() const { return count_; }
  const std::string& name() const { return name_; }
  // Keras's get_config(): {"name", "dtype": "float32"}.
  Config get_config() const;

 private:
  friend class BinaryAccuracy;
  friend class SparseCategoricalAccuracy;

  // reduce_to_samplewise_values and the state update for `values` of `shape`; `source` names the
  // metric in errors.
  void accumulate(Shape shape, std::vector<double> values, const Tensor* sample_weight,
                  ErrorSource source);

  std::string name_;
  float total_ = 0.0f;
  float count_ = 0.0f;
};

// keras.metrics.BinaryAccuracy: how often (y_pred > threshold) equals y_true, whose values must
// be 0 or 1 to ever match.
class BinaryAccuracy {
 public:
  struct Args {
    double threshold = 0.5;  // in (0, 1)
    std::string name = "binary_accuracy";
  };

  BinaryAccuracy();
  explicit BinaryAccuracy(Args args);
  // Keras's from_config: name, dtype (null or "float32") and threshold.
  static std::unique_ptr<BinaryAccuracy> from_config(const Config& config);

  // y_true and y_pred of one shape once Keras has aligned their ranks; `sample_weight` may be
  // null.
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr);
  float result() const { return mean_.result(); }
  void reset_state() { mean_.reset_state(); }

  double threshold() const { return threshold_; }
  const std::string& name() const { return mean_.name(); }
  float total() const { return mean_.total(); }
  float count() const { return mean_.count(); }
  // {"name", "dtype": "float32", "threshold"}.
  Config get_config() const;

 private:
  Mean mean_;
  double threshold_;
};

// keras.metrics.SparseCategoricalAccuracy: how often argmax(y_pred, axis=-1) (the first maximum)
// equals the integer label in y_true.
class SparseCategoricalAccuracy {
 public:
  struct Args {
    std::string name = "sparse_categorical_accuracy";
  };

  SparseCategoricalAccuracy();
  explicit SparseCategoricalAccuracy(Args args);
  static std::unique_ptr<SparseCategoricalAccuracy> from_config(const Config& config);

  // y_true (B, ...) or (B, ..., 1), y_pred (B, ..., C); `sample_weight` may be null.
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr);
  float result() const { return mean_.result(); }
  void reset_state() { mean_.reset_state(); }

  const std::string& name() const { return mean_.name(); }
  float total() const { return mean_.total(); }
  float count() const { return mean_.count(); }
  // {"name", "dtype": "float32"}.
  Config get_config() const;

 private:
  Mean mean_;
};

}  // namespace kattn
