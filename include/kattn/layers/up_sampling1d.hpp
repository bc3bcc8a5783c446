// keras.layers.UpSampling1D, exact to Keras 3.16.
//
//   inputs (B, T, C) -> output (B, T * size, C): output[:, t * size + r] = inputs[:, t]
//                       for r < size (numpy.repeat along the steps axis)
//
// Weightless; the output carries no Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/reshaping_layer.hpp"

namespace kattn {

class UpSampling1D : public ReshapingLayer {
 public:
  struct Args {
    int64_t size = 2;       // > 0
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  UpSampling1D();
  // ValueError unless size > 0 ("Argument `size` should be a positive integer").
  explicit UpSampling1D(Args args);
  static std::unique_ptr<UpSampling1D> from_config(const Config& config);

  // ValueError for inputs of another rank than 3.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  int64_t size() const { return size_; }
  Config get_config() const override;

 protected:
  // d_inputs[:, t] = the sum of d_output[:, t * size + r] over r.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  int64_t size_;
};

}  // namespace kattn
