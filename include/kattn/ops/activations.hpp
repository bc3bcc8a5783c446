// Keras activations (keras.activations) by their Keras names, as layers take them in their
// `activation` argument and write them into their configs.
//
// Supported: linear, relu, gelu (exact erf form, Keras's default approximate=False), sigmoid,
// tanh, softmax (over the last axis), silu ("swish" is Keras's alias of silu), hard_sigmoid
// (clip(x / 6 + 0.5, 0, 1)), softsign (x / (1 + |x|)), and the element-wise ones with Keras's
// default arguments: relu6, leaky_relu (negative_slope 0.2), elu and celu (alpha 1), selu,
// softplus, log_sigmoid, exponential, mish, hard_silu ("hard_swish" is its alias), tanh_shrink,
// hard_tanh, squareplus (b 4), sparse_plus, sparse_sigmoid, soft_shrink and hard_shrink
// (threshold 0.5); and log_softmax and sparsemax over the last axis (sparsemax with Keras's own
// threshold, whose rows need not sum to 1: src/ops/activations.cpp). Not supported: glu (it
// halves the last axis, which no layer's output shape here allows for) and threshold (no
// default arguments, so not usable by name). Any other name is refused by name
// (NotSupportedError listing the supported ones). Each computes in float32 as Keras's numpy
// backend does.
#pragma once

#include <string>
#include <string_view>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

class ActivationFunction {
 public:
  // linear: keras.activations.get(None).
  ActivationFunction();
  // keras.activations.get(name); NotSupportedError for a name that is not supported.
  explicit ActivationFunction(std::string_view name);

  // A Keras `activation` config entry: null (linear) or a name string.
  static ActivationFunction from_config(const Config& config);
  // keras.activations.serialize: the plain name ("relu", "linear"; "silu" for "swish").
  Config get_config() const { return name_; }

  const std::string& name() const { return name_; }

  // Applies the activation to `x` in place (softmax: over the last axis of rank >= 1 tensors).
  // In float32 as Keras computes; in double for the reference implementations' checks.
  template <typename Real>
  void operator()(BasicTensor<Real>& x) const;

  // The backward of operator(): d_inputs (a fresh tensor) for d_outputs, from the call's
  // outputs and, for the activations whose derivative needs them (backward_reads_inputs()), its
  // inputs; `inputs` is not read otherwise and may be an empty tensor. All three have one shape.
  //   linear  d                     relu  d * (y > 0)           (TF's ReluGrad: 0 at x = 0)
  //   sigmoid d * y * (1 - y)       tanh  d * (1 - y^2)
  //   softmax y * (d - sum(d * y))  over the last axis
  //   log_softmax  d - exp(y) * sum(d)  over the last axis
  //   sparsemax    [y > 0] d - sum(d over y > 0) * d tau / dx  over the last axis
  //   gelu    d * (Phi(x) + x * phi(x))   (the exact erf form's derivative)
  //   silu    d * s * (1 + x * (1 - s)),  s = sigmoid(x)
  //   hard_sigmoid  d / 6 where 0 < y < 1, else 0      softsign  d * (1 - |y|)^2
  //   the other element-wise ones: d * f'(x), from the inputs
  template <typename Real>
  BasicTensor<Real> backward(const BasicTensor<Real>& inputs, const BasicTensor<Real>& outputs,
                             const BasicTensor<Real>& d_outputs) const;
  // True for gelu, silu, sparsemax and the other element-wise ones but linear, relu, sigmoid, tanh,
  // hard_sigmoid and softsign: backward() reads the inputs, so a training call keeps them.
  bool backward_reads_inputs() const;

  bool operator==(const ActivationFunction& other) const { return name_ == other.name_; }

 private:
  std::string name_;
};

extern template void ActivationFunction::operator()(Tensor&) const;
extern template void ActivationFunction::operator()(TensorF64&) const;
extern template Tensor ActivationFunction::backward(const Tensor&, const Tensor&,
                                                    const Tensor&) const;
extern template TensorF64 ActivationFunction::backward(const TensorF64&, const TensorF64&,
                                                       const TensorF64&) const;

}  // namespace kattn
