// keras.layers.Dense, exact to Keras 3.16.
//
//   inputs (..., D) of rank >= 2, kernel (D, units), bias (units,)
//   output (..., units) = activation(inputs @ kernel + bias)
//
// Every leading axis acts as a batch axis. kattn does not implement LoRA or quantization:
// from_config accepts lora_rank, lora_alpha and quantization_config only as null.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {

class Dense : public UnaryLayer {
 public:
  // Keras's constructor arguments, with Keras's defaults. units is required: its 0 default is
  // refused with Keras's message.
  struct Args {
    int64_t units = 0;                                     // > 0
    ActivationFunction activation = ActivationFunction();  // Keras's None: linear
    bool use_bias = true;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros). Keras 3.16
    // does not write activity_regularizer into Dense's config.
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    std::string name = "";                  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit Dense(Args args);
  // Keras's from_config: the keys of get_config() (plus activity_regularizer, lora_rank and
  // lora_alpha); unknown keys raise ValueError.
  static std::unique_ptr<Dense> from_config(const Config& config);

  // Creates kernel (D, units) then bias (units,) for inputs (..., D): only the rank and the last
  // dimension matter, others may be -1 (Keras's None). Done by the first call when not done; a
  // no-op once built.
  void build(const Shape& input_shape) override;
  // (..., D) -> (..., units); -1 dimensions pass through.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Tensor& inputs) const override;

  // A training call: call() that also keeps what backward() needs (the inputs, and what the
  // activation's derivative reads).
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns d_inputs and adds the gradients of kernel and bias into
  // weight_gradients (zero_gradients(), weights() order).
  //   d_linear = activation'(d_output);  d_inputs = d_linear @ kernel^T
  //   d_kernel += inputs^T @ d_linear;   d_bias += sum of d_linear over the leading axes
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  int64_t units() const { return units_; }
  const ActivationFunction& activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }
  // Not in get_config(), as in Keras 3.16, but applied in training.
  Config activity_regularizer() const override { return activity_regularizer_; }

  Config get_config() const override;

 private:
  void build_weights(const Shape& input_shape);
  // inputs @ kernel + bias, before the activation (building on the first call).
  Tensor linear(const Tensor& inputs) const;

  int64_t units_;
  ActivationFunction activation_;
  bool use_bias_;
  WeightArgs kernel_;
  WeightArgs bias_;
  Config activity_regularizer_;
};

}  // namespace kattn
