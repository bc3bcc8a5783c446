// keras.activations.relu, leaky_relu and elu with their arguments, as the ReLU, LeakyReLU and
// ELU layers call them (the Activation layer's names use Keras's defaults:
// kattn/ops/activations.hpp). In float32 as Keras's numpy backend computes, and in double for
// the gradient checks.
//
//   relu(x, negative_slope, max_value, threshold) (keras.activations.relu):
//     negative_slope != 0 with neither max_value nor threshold: max(x, negative_slope * x)
//     otherwise: (threshold != 0 ? (x > threshold ? x : 0) : max(x, 0)), clipped to
//                [0, max_value] when given, minus negative_slope * max(threshold - x, 0)
//   leaky_relu(x, negative_slope): max(x, negative_slope * x)
//   elu(x, alpha): x >= 0 ? x : alpha * expm1(x)
#pragma once

#include <optional>

#include "kattn/core/tensor.hpp"

namespace kattn {

class Rectifier {
 public:
  static Rectifier relu(double negative_slope = 0.0, std::optional<double> max_value = std::nullopt,
                        double threshold = 0.0);
  static Rectifier leaky_relu(double negative_slope);
  static Rectifier elu(double alpha);

  // A new tensor of x's shape.
  template <typename Real>
  BasicTensor<Real> operator()(const BasicTensor<Real>& x) const;
  // d_inputs for d_outputs of a call on `inputs` (the derivative is 0 at the clipping points
  // and the threshold, 1 at 0 for elu).
  template <typename Real>
  BasicTensor<Real> backward(const BasicTensor<Real>& inputs,
                             const BasicTensor<Real>& d_outputs) const;

 private:
  enum class Kind { kLeaky, kThresholded, kElu };
  Rectifier(Kind kind, double slope, std::optional<double> max_value, double threshold)
      : kind_(kind), slope_(slope), max_value_(max_value), threshold_(threshold) {}

  template <typename Real>
  Real value(Real x) const;
  template <typename Real>
  Real derivative(Real x) const;

  Kind kind_;
  double slope_;  // negative_slope, or elu's alpha
  std::optional<double> max_value_;
  double threshold_;
};

extern template Tensor Rectifier::operator()(const Tensor&) const;
extern template TensorF64 Rectifier::operator()(const TensorF64&) const;
extern template Tensor Rectifier::backward(const Tensor&, const Tensor&) const;
extern template TensorF64 Rectifier::backward(const TensorF64&, const TensorF64&) const;

}  // namespace kattn
