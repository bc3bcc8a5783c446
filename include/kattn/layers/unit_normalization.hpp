// keras.layers.UnitNormalization, exact to Keras 3.16: each vector along `axis` (one axis or
// several) scaled to unit L2 norm, y = x / sqrt(max(sum(x^2), 1e-24)) (ops.normalize with
// epsilon 1e-12). Weightless; the output keeps the input's Keras mask.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class UnitNormalization : public UnaryLayer {
 public:
  struct Args {
    IntOrList axis = -1;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  UnitNormalization();
  explicit UnitNormalization(Args args);
  static std::unique_ptr<UnitNormalization> from_config(const Config& config);

  // ValueError for an axis outside the inputs' rank.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;
  LayerForward forward(const Tensor& inputs) const override;
  // d x = (d y - y * sum(d y * y)) / norm where the norm is above 1e-12, d y / 1e-12 elsewhere.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const IntOrList& axis() const { return axis_; }
  Config get_config() const override;

 private:
  IntOrList axis_;
};

}  // namespace kattn
