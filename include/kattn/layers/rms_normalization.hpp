// keras.layers.RMSNormalization, exact to Keras 3.16 (ops.rms_normalization on the numpy
// backend):
//
//   y = x * rsqrt(mean(x^2 over `axis`) + epsilon) * scale, scale shaped like the axes' sizes
//
// `axis` is written back as a sorted list once built (Keras's build turns an int into [axis]).
// The layer does not support masking: its output carries no Keras mask.
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

class RMSNormalization : public UnaryLayer {
 public:
  struct Args {
    IntOrList axis = -1;
    double epsilon = 1e-6;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  RMSNormalization();
  explicit RMSNormalization(Args args);
  static std::unique_ptr<RMSNormalization> from_config(const Config& config);

  // Creates `scale` (the sizes of the axes, which must be known); ValueError for an axis
  // outside the inputs' rank.
  void build(const Shape& input_shape) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;
  LayerForward forward(const Tensor& inputs) const override;
  // d x = r (s d y) - x r^3 / N * sum(d y s x) per group; d scale = sum(d y x r).
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const IntOrList& axis() const { return axis_; }
  Config get_config() const override;

 private:
  std::vector<int64_t> resolve_axes(const Shape& shape) const;
  void build_weights(const Shape& input_shape);

  IntOrList axis_;
  double epsilon_;
};

}  // namespace kattn
