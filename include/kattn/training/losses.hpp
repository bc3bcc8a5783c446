// Keras 3.16's losses for training: MeanSquaredError, BinaryCrossentropy and
// SparseCategoricalCrossentropy. compute() returns the reduced loss and its gradient with respect
// to y_pred from one pass.
//
//   y_true, y_pred   MSE, BCE: the same shape (B, ..., D) once Keras has aligned their ranks
//                    (squeeze_or_expand_to_same_rank: a trailing axis of length 1 is dropped or
//                    added when the ranks differ by one).
//                    SCCE: y_pred (B, ..., C) scores; y_true (B, ...) or (B, ..., 1) class
//                    indices held as floats.
//   per-sample loss  MSE, BCE: the elementwise loss averaged over `axis` (-1), (B, ...);
//                    SCCE: one value per label, (B, ...).
//   sample_weight    optional; aligned to the per-sample loss's rank as Keras does, then
//                    broadcast against it (numpy rules).
//   loss             sum(per_sample * sample_weight), then by `reduction`:
//                    "sum_over_batch_size" (Keras's default) and "mean" divide by the number of
//                    weighted entries, "sum" does not divide, "mean_with_sample_weight" divides
//                    by the sum of the sample weights.
//
// Probabilities are clipped to [1e-7, 1 - 1e-7] (Keras's backend.epsilon(), both bounds rounded
// to float32 as Keras's float32 inputs round them); inside the clip the gradient is the
// derivative of the clipped expression and outside it is zero. Arithmetic is in double on the
// float32 inputs; the gradient is returned in float32.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// What Loss::compute returns.
struct LossValue {
  double loss = 0.0;
  // dLoss/dy_pred, the shape of y_pred.
  Tensor grad;
};

// keras.losses.Loss: a name, a reduction, and a per-sample loss supplied by the subclass.
class Loss {
 public:
  virtual ~Loss() = default;

  // The Keras class_name ("MeanSquaredError").
  const std::string& class_name() const { return class_name_; }
  const std::string& name() const { return name_; }
  const std::string& reduction() const { return reduction_; }

  // Keras's Loss.__call__(y_true, y_pred, sample_weight) with its gradient. `sample_weight` may
  // be null. Shapes and labels are checked before anything is computed; errors name the
  // argument. Const and safe to call from many threads at once.
  LossValue compute(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) const;

  // Keras's get_config(): name and reduction, plus the subclass's arguments.
  virtual Config get_config() const;
  virtual std::unique_ptr<Loss> clone() const = 0;

 protected:
  // Validates `reduction` as keras.losses.loss.standardize_reduction does.
  Loss(std::string class_name, std::string name, std::string reduction);
  Loss(const Loss&) = default;
  Loss& operator=(const Loss&) = default;

  ErrorSource error_source() const { return {class_name_, name_}; }

  // The per-sample losses of a subclass and the derivative of each with respect to the elements
  // of y_pred that feed it. y_pred, viewed as (outer, dim, inner) row-major, feeds per-sample
  // value o * inner + i from elements (o, :, i): every element feeds exactly one value.
  struct PerSample {
    Shape shape;                     // the per-sample loss shape, (outer * inner) values
    std::vector<double> values;      // (outer * inner,)
    std::vector<double> local_grad;  // (y_pred.size(),): d values[sample] / d y_pred[element]
    int64_t dim = 1;
    int64_t inner = 1;
    // Empty, or one 0/1 entry per value: the Keras mask set on the losses (ignore_class).
    std::vector<double> mask;
  };
  virtual PerSample per_sample(const Tensor& y_true, const Tensor& y_pred) const = 0;

 private:
  std::string class_name_;
  std::string name_;
  std::string reduction_;
};

// keras.losses.MeanSquaredError: mean(square(y_true - y_pred), axis=-1).
class MeanSquaredError : public Loss {
 public:
  struct Args {
    std::string reduction = "sum_over_batch_size";
    std::string name = "mean_squared_error";
  };

  MeanSquaredError();
  explicit MeanSquaredError(Args args);
  // Keras's from_config: name, reduction and dtype (null or "float32").
  static std::unique_ptr<MeanSquaredError> from_config(const Config& config);
  std::unique_ptr<Loss> clone() const override;

 protected:
  PerSample per_sample(const Tensor& y_true, const Tensor& y_pred) const override;
};

// keras.losses.BinaryCrossentropy: mean over `axis` of
//   probabilities: -(z * log(q) + (1 - z) * log(1 - q)), q = clip(y_pred, eps, 1 - eps)
//   logits:        max(x, 0) - x * z + log(1 + exp(-|x|))
// with z = y_true * (1 - label_smoothing) + 0.5 * label_smoothing.
class BinaryCrossentropy : public Loss {
 public:
  struct Args {
    bool from_logits = false;
    double label_smoothing = 0.0;  // Keras documents [0, 1] and checks nothing
    int64_t axis = -1;             // the axis averaged over, in [-rank, rank) of y_pred
    std::string reduction = "sum_over_batch_size";
    std::string name = "binary_crossentropy";
  };

  BinaryCrossentropy();
  explicit BinaryCrossentropy(Args args);
  static std::unique_ptr<BinaryCrossentropy> from_config(const Config& config);
  std::unique_ptr<Loss> clone() const override;
  Config get_config() const override;

  bool from_logits() const { return from_logits_; }
  double label_smoothing() const { return label_smoothing_; }
  int64_t axis() const { return axis_; }

 protected:
  PerSample per_sample(const Tensor& y_true, const Tensor& y_pred) const override;

 private:
  bool from_logits_;
  double label_smoothing_;
  int64_t axis_;
};

// keras.losses.SparseCategoricalCrossentropy: -log p[label] over the last axis of y_pred, with
//   probabilities: p = clip(y_pred / sum(y_pred, axis=-1), eps, 1 - eps)
//   logits:        log p = log_softmax(y_pred)
// Labels must be integers in [0, C). Labels equal to ignore_class get loss 0 and are masked:
// "sum_over_batch_size" and "mean" then divide by the number of unmasked labels.
class SparseCategoricalCrossentropy : public Loss {
 public:
  struct Args {
    bool from_logits = false;
    std::optional<int64_t> ignore_class = std::nullopt;
    std::string reduction = "sum_over_batch_size";
    std::string name = "sparse_categorical_crossentropy";
  };

  SparseCategoricalCrossentropy();
  explicit SparseCategoricalCrossentropy(Args args);
  static std::unique_ptr<SparseCategoricalCrossentropy> from_config(const Config& config);
  std::unique_ptr<Loss> clone() const override;
  Config get_config() const override;

  bool from_logits() const { return from_logits_; }
  const std::optional<int64_t>& ignore_class() const { return ignore_class_; }

 protected:
  PerSample per_sample(const Tensor& y_true, const Tensor& y_pred) const override;

 private:
  bool from_logits_;
  std::optional<int64_t> ignore_class_;
};

// keras.src.losses.loss.squeeze_or_expand_to_same_rank, on shapes: when the ranks differ by one
// and the longer shape ends in an axis of length 1, that axis is dropped, or, when the shorter
// shape has rank 1 and `expand_rank_1` holds, an axis of length 1 is appended to the shorter one.
void squeeze_or_expand_to_same_rank(Shape& x1, Shape& x2, bool expand_rank_1 = true);

// keras.losses.get / deserialize: a loss from
//   - a name: a class name ("MeanSquaredError") gives the class with its defaults; a function
//     name ("mse", "MSE", "mean_squared_error", "bce", "BCE", "binary_crossentropy",
//     "sparse_categorical_crossentropy") gives the class named after the string, as
//     model.compile names a loss given by a string;
//   - a serialized object {"module", "class_name", "config", "registered_name"}, of one of the
//     three classes, of a loss function ("class_name": "function"), or of a
//     LossFunctionWrapper around one of the three functions.
// Other Keras losses raise NotSupportedError naming them; anything else raises ValueError.
std::unique_ptr<Loss> deserialize_loss(const Config& identifier);

// keras.losses.serialize: {"module": "keras.losses", "class_name", "config",
// "registered_name": null}.
Config serialize_loss(const Loss& loss);

}  // namespace kattn
