// keras.activations.relu (ReLU.static_call), leaky_relu and elu on Keras's numpy backend: the
// arguments rounded to the tensor's type, as numpy does with Python floats.
#include "kattn/ops/rectifiers.hpp"

#include <algorithm>
#include <cmath>

namespace kattn {

Rectifier Rectifier::relu(double negative_slope, std::optional<double> max_value,
                          double threshold) {
  // ReLU.static_call: backend.nn.leaky_relu when only negative_slope is set.
  if (negative_slope != 0.0 && !max_value && threshold == 0.0) {
    return leaky_relu(negative_slope);
  }
  return Rectifier(Kind::kThresholded, negative_slope, max_value, threshold);
}

Rectifier Rectifier::leaky_relu(double negative_slope) {
  return Rectifier(Kind::kLeaky, negative_slope, std::nullopt, 0.0);
}

Rectifier Rectifier::elu(double alpha) { return Rectifier(Kind::kElu, alpha, std::nullopt, 0.0); }

template <typename Real>
Real Rectifier::value(Real x) const {
  const auto slope = static_cast<Real>(slope_);
  switch (kind_) {
    case Kind::kLeaky:
      return std::max(x, slope * x);
    case Kind::kElu:
      return x >= Real(0) ? x : slope * std::expm1(x);
    case Kind::kThresholded:
      break;
  }
  const auto threshold = static_cast<Real>(threshold_);
  Real y = threshold != Real(0) ? (x > threshold ? x : Real(0)) : std::max(x, Real(0));
  if (max_value_) y = std::clamp(y, Real(0), static_cast<Real>(*max_value_));
  if (slope_ != 0.0) y -= slope * std::max(threshold - x, Real(0));
  return y;
}

template <typename Real>
Real Rectifier::derivative(Real x) const {
  const auto slope = static_cast<Real>(slope_);
  switch (kind_) {
    case Kind::kLeaky:
      return x >= slope * x ? Real(1) : slope;
    case Kind::kElu:
      return x >= Real(0) ? Real(1) : slope * std::exp(x);
    case Kind::kThresholded:
      break;
  }
  const auto threshold = static_cast<Real>(threshold_);
  const bool passes = x > threshold && (!max_value_ || x < static_cast<Real>(*max_value_));
  return (passes ? Real(1) : Real(0)) + (threshold - x > Real(0) ? slope : Real(0));
}

template <typename Real>
BasicTensor<Real> Rectifier::operator()(const BasicTensor<Real>& x) const {
  BasicTensor<Real> y = x.clone();  // contiguous
  for (int64_t i = 0; i < y.size(); ++i) y.data()[i] = value(y.data()[i]);
  return y;
}

template <typename Real>
BasicTensor<Real> Rectifier::backward(const BasicTensor<Real>& inputs,
                                      const BasicTensor<Real>& d_outputs) const {
  const BasicTensor<Real> x = inputs.contiguous();
  BasicTensor<Real> d = d_outputs.clone();
  for (int64_t i = 0; i < d.size(); ++i) d.data()[i] *= derivative(x.data()[i]);
  return d;
}

template Tensor Rectifier::operator()(const Tensor&) const;
template TensorF64 Rectifier::operator()(const TensorF64&) const;
template Tensor Rectifier::backward(const Tensor&, const Tensor&) const;
template TensorF64 Rectifier::backward(const TensorF64&, const TensorF64&) const;

}  // namespace kattn
