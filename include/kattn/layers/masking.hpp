// keras.layers.Masking, exact to Keras 3.16.
//
//   inputs (..., D) of rank >= 1
//   keep (...) = any(inputs != mask_value, axis=-1)
//   output (..., D) = inputs * keep[..., None]       (the Keras mask of the output is keep)
//
// The product is taken as in Keras, so a masked step holding inf or NaN (only possible when
// mask_value is one) gives NaN, not 0.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class Masking : public UnaryLayer {
 public:
  struct Args {
    double mask_value = 0.0;  // compared in float32
    std::string name = "";    // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Masking();
  explicit Masking(Args args);
  static std::unique_ptr<Masking> from_config(const Config& config);

  // No weights: marks the layer built.
  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps the keep mask for backward().
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the inputs' shape) through the forward() call that gave
  // `forward`: d_inputs = d_output * keep[..., None]. The mask is a constant (not_equal has no
  // gradient), so masked steps get 0. weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;
  // Keras's compute_mask: any(inputs != mask_value, axis=-1), shape inputs.shape[:-1], whatever
  // mask the inputs carry; recorded in a symbolic graph as Keras records it (NotEqual, then Any).
  std::optional<Mask> compute_mask(const Tensor& inputs,
                                   const std::optional<Mask>& mask = std::nullopt) const override;
  std::optional<KerasTensor> compute_mask(const KerasTensor& inputs,
                                          const std::optional<KerasTensor>& mask) const override;

  double mask_value() const { return mask_value_; }

  Config get_config() const override;

 private:
  // any(inputs != mask_value, axis=-1).
  Mask keep_mask(const Tensor& inputs) const;
  // inputs * keep[..., None], as call() computes it.
  static Tensor apply_keep(const Tensor& inputs, const Mask& keep);

  double mask_value_;
};

}  // namespace kattn
