// keras.layers.LayerNormalization, exact to Keras 3.16 (numpy backend arithmetic).
//
//   inputs (..., *normalised axes): statistics over `axis` (one or several axes, anywhere),
//   gamma and beta shaped like the normalised axes' dims.
//   default: mean = E[x], var = E[x^2] - E[x]^2 (ops.moments' one-pass form)
//            inv = gamma / sqrt(var + epsilon)      (gamma only with scale)
//            y = x * inv + (beta - mean * inv)     (beta only with center)
//   rms_scaling: var = E[(x - E[x])^2] (np.var), y = x / sqrt(var + epsilon) * gamma;
//            center and scale are ignored (gamma is created, beta is not). Keras deprecates the
//            argument: it scales by the variance, not the root mean square.
// All in float32. The output keeps the input's mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class LayerNormalization : public UnaryLayer {
 public:
  struct Args {
    IntOrList axis = -1;  // an int or a list of ints; negative counts from the end
    double epsilon = 1e-3;
    bool center = true;
    bool scale = true;
    bool rms_scaling = false;
    // Keras's beta_* and gamma_* arguments (no initializer: zeros, ones).
    WeightArgs beta = {};
    WeightArgs gamma = {};
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  LayerNormalization();
  explicit LayerNormalization(Args args);
  // Keras's from_config: the keys of get_config(); `axis` an int or a list. Unknown keys raise
  // ValueError.
  static std::unique_ptr<LayerNormalization> from_config(const Config& config);

  // Creates gamma (when scale or rms_scaling) then beta (when center and not rms_scaling), of
  // the dims of the normalised axes, which must be known; other dims may be -1. Normalises
  // `axis` to a list of non-negative axes. Done by the first call when not done; a no-op once
  // built.
  void build(const Shape& input_shape) override;
  // The input shape, once `axis` is checked against its rank.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Tensor& inputs) const override;

  // A training call: call() that also keeps what backward() needs (the inputs and each
  // normalised group's mean and 1 / sqrt(var + epsilon)).
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the inputs' shape) through the forward() call that gave
  // `forward`: returns d_inputs and adds the gradients of gamma and beta into weight_gradients
  // (zero_gradients(), weights() order). Per group of n normalised elements, r = 1 / sqrt(var +
  // epsilon), g = gamma (1 without scale):
  //   default:     xhat = (x - mean) * r, dz = dy * g
  //                dx = r * (dz - mean(dz) - xhat * mean(dz * xhat))
  //                d_gamma += dy * xhat, d_beta += dy
  //   rms_scaling: dx = r * g * dy - r^3 * (x - mean) * mean(dy * g * x),  d_gamma += dy * x * r
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  // As given before build (an int stays an int), the normalised list after.
  const IntOrList& axis() const { return axis_; }
  double epsilon() const { return epsilon_; }
  bool center() const { return center_; }
  bool scale() const { return scale_; }
  bool rms_scaling() const { return rms_scaling_; }

  // `axis` as Keras writes it: the int or list given, until build makes it the normalised list
  // ([2] for rank-3 inputs and axis=-1, as in Keras-saved models).
  Config get_config() const override;
  // Before Keras 3.16 build keeps the axes as given, in a list ([-1]).
  void follow_keras_version(const KerasVersion& version) override;

 private:
  void build_weights(const Shape& input_shape);
  // Builds on the first call and checks the inputs against the built dims; returns the
  // normalised axes, sorted.
  std::vector<int64_t> prepare(const Tensor& inputs) const;
  // The call's arithmetic on contiguous inputs; `means` and `rsqrts`, when not null, get each
  // group's mean and 1 / sqrt(var + epsilon), in the order of the groups.
  Tensor normalize(const Tensor& x, const std::vector<int64_t>& axes, std::vector<float>* means,
                   std::vector<float>* rsqrts) const;

  IntOrList axis_;
  bool keeps_given_axes_ = false;  // Keras before 3.16
  double epsilon_;
  bool center_;
  bool scale_;
  bool rms_scaling_;
  WeightArgs beta_;
  WeightArgs gamma_;
  Shape built_dims_;  // the normalised axes' dims, fixed by build
};

}  // namespace kattn
