// keras.layers.RepeatVector, exact to Keras 3.16.
//
//   inputs (B, F) -> output (B, n, F): every row repeated n times
//
// Weightless, built on the first call (Keras records its build_config); the output carries no
// Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/reshaping_layer.hpp"

namespace kattn {

class RepeatVector : public ReshapingLayer {
 public:
  struct Args {
    int64_t n = 0;          // > 0, required
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError unless n > 0 ("Argument `n` should be a positive integer").
  explicit RepeatVector(Args args);
  static std::unique_ptr<RepeatVector> from_config(const Config& config);

  // (B, F) -> (B, n, F); ValueError for inputs of another rank (Keras's InputSpec(ndim=2)).
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  int64_t n() const { return n_; }
  Config get_config() const override;

 protected:
  // d_inputs (B, F) = the sum of d_output (B, n, F) over its n copies.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  void check_rank(const Shape& input_shape) const;

  int64_t n_;
};

}  // namespace kattn
