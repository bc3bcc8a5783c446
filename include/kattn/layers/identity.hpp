// keras.layers.Identity: output = inputs (the same tensor), with the input's Keras mask.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class Identity : public UnaryLayer {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Identity();
  explicit Identity(Args args);
  static std::unique_ptr<Identity> from_config(const Config& config);

  // `inputs` itself (shared storage).
  Tensor call(const Tensor& inputs) const override { return inputs; }
  LayerForward forward(const Tensor& inputs) const override;
  // A copy of d_output; weight_gradients is empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  // For ActivityRegularization, an identity under another class name.
  Identity(std::string class_name, LayerArgs args);
};

}  // namespace kattn
