// keras.layers.Reshape, exact to Keras 3.16.
//
//   inputs (B, d1, ..., dn) -> output (B, *target_shape), the elements in row-major order
//
// One entry of target_shape may be -1: it is the size the others leave. Weightless; the output
// carries no Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/reshaping_layer.hpp"

namespace kattn {

class Reshape : public ReshapingLayer {
 public:
  struct Args {
    std::vector<int64_t> target_shape;  // batch excluded; entries >= 0, at most one -1
    std::string name = "";              // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError for an entry below -1 or for more than one -1 (Keras's validate_reshape_shape).
  explicit Reshape(Args args);
  static std::unique_ptr<Reshape> from_config(const Config& config);

  // (B, *target_shape) with the -1 resolved, or -1 (None) where an input size is unknown;
  // ValueError when the input's size cannot take that shape.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  const std::vector<int64_t>& target_shape() const { return target_shape_; }
  Config get_config() const override;

 protected:
  // d_output reshaped to the input's shape.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  std::vector<int64_t> target_shape_;
};

}  // namespace kattn
