// keras.layers.PReLU, exact to Keras 3.16.
//
//   inputs (B, d1, ..., dn); alpha (d1, ..., dn) with 1 on the shared_axes (1-based axes of the
//   inputs, the batch axis excluded), broadcast over them
//   output = relu(x) - alpha * relu(-x)
//
// The output keeps the input's Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class PReLU : public UnaryLayer {
 public:
  struct Args {
    WeightArgs alpha = {};  // the initializer defaults to zeros
    // Axes (>= 1) along which alpha is shared; none: one alpha per input element.
    std::optional<std::vector<int64_t>> shared_axes = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  PReLU();
  explicit PReLU(Args args);
  static std::unique_ptr<PReLU> from_config(const Config& config);

  // Creates alpha for inputs of this shape (known sizes on the axes it is not shared along);
  // ValueError for rank < 2 or a shared axis outside 1 .. rank - 1.
  void build(const Shape& input_shape) override;
  // ValueError for inputs of another rank, or other sizes on the unshared axes, than the build's.
  Tensor call(const Tensor& inputs) const override;
  LayerForward forward(const Tensor& inputs) const override;
  // d_inputs = d_output where x > 0, alpha * d_output where x < 0 (0 at 0); alpha's gradient,
  // -sum(d_output * relu(-x)) over the shared axes and the batch, is added to
  // weight_gradients[0].
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const std::optional<std::vector<int64_t>>& shared_axes() const { return shared_axes_; }
  Config get_config() const override;

 private:
  // Builds on the first call; checks the inputs against alpha's shape.
  void prepare(const Tensor& inputs) const;
  void build_weights(const Shape& input_shape);
  // alpha stretched to the inputs' shape.
  Tensor broadcast_alpha(const Shape& shape) const;

  WeightArgs alpha_args_;
  std::optional<std::vector<int64_t>> shared_axes_;
};

}  // namespace kattn
