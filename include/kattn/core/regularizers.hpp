// Keras weight regularizers (keras.regularizers): L1, L2 and L1L2, by their Keras names and
// serialized configs. OrthogonalRegularizer and custom classes are refused by name
// (NotSupportedError).
//
// A regularizer adds l1 * sum(|x|) + l2 * sum(x^2) to the loss; add_gradient() gives training
// code the derivative of that term.
#pragma once

#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// A value type, cheap to copy; its methods are const and safe from several threads at once.
class Regularizer {
 public:
  // Keras's defaults: L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0). Each factor must be a
  // finite non-negative number (ValueError otherwise, as Keras's validate_float_arg).
  static Regularizer l1(double l1 = 0.01);
  static Regularizer l2(double l2 = 0.01);
  static Regularizer l1_l2(double l1 = 0.0, double l2 = 0.0);

  // A Keras serialized regularizer: null (no regularizer: returns std::nullopt), a name ("l1",
  // "l2", "l1l2" or "l1_l2", or a class name "L1", "L2", "L1L2": the class with its default
  // arguments), or an object {"module": "keras.regularizers", "class_name": "L2",
  // "config": {"l2": 0.01}}. A null factor in the config takes the class's default, as in Keras.
  static std::optional<Regularizer> from_config(const Config& config);
  // The serialized object Keras writes into a layer config (factors written as floats).
  Config get_config() const;
  // get_config() of `regularizer`, or null when there is none (a layer config's
  // "kernel_regularizer": null).
  static Config serialize(const std::optional<Regularizer>& regularizer);

  const std::string& class_name() const { return class_name_; }
  double l1_factor() const { return l1_; }
  double l2_factor() const { return l2_; }

  // Keras's __call__: l1 * sum(|x|) + l2 * sum(x^2), summed in double. A factor of zero adds
  // nothing (Keras skips it), so an infinite x gives an infinite penalty, not NaN.
  double penalty(const Tensor& x) const;

  // grad += d penalty / dx = l1 * sign(x) + 2 * l2 * x, with sign(0) = 0. `grad` must have the
  // shape of `x` (ValueError otherwise); it may be a strided view.
  void add_gradient(const Tensor& x, Tensor& grad) const;

 private:
  Regularizer(std::string class_name, double l1, double l2);

  std::string class_name_;
  double l1_ = 0.0;
  double l2_ = 0.0;
};

}  // namespace kattn
