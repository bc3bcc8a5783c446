// keras.layers.Activation: output = activation(inputs), element-wise (softmax over the last
// axis). See kattn/ops/activations.hpp for the supported activations.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {

class Activation : public UnaryLayer {
 public:
  struct Args {
    ActivationFunction activation = ActivationFunction();  // Keras's None: linear
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // `activation` is a required argument in Keras, so there is no default constructor.
  explicit Activation(Args args);
  static std::unique_ptr<Activation> from_config(const Config& config);

  // No weights: built at construction, as in Keras, so build() is a no-op.
  // A new tensor; `inputs` is not modified.
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps what the activation's derivative reads.
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the inputs' shape) through the forward() call that gave
  // `forward`: returns d_inputs = activation'(d_output) (ActivationFunction::backward).
  // weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const ActivationFunction& activation() const { return activation_; }

  Config get_config() const override;

 private:
  ActivationFunction activation_;
};

}  // namespace kattn
