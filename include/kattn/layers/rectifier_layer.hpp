// What the ReLU, LeakyReLU and ELU layers share: a weightless, mask-passing call of a
// Rectifier (kattn/ops/rectifiers.hpp), built at construction as Keras builds them.
#pragma once

#include <string>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/rectifiers.hpp"

namespace kattn {

class RectifierLayer : public UnaryLayer {
 public:
  // A new tensor; `inputs` is not modified.
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps the inputs, which the derivative reads.
  LayerForward forward(const Tensor& inputs) const override;
  // d_inputs = d_output * the rectifier's derivative at the inputs; weight_gradients is empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  RectifierLayer(std::string class_name, LayerArgs args, Rectifier rectifier);

 private:
  Rectifier rectifier_;
};

}  // namespace kattn
