// keras.layers.Cropping1D, exact to Keras 3.16.
//
//   inputs (B, T, C) -> output (B, T - lo - hi, C) = inputs[:, lo:T - hi, :]
//
// Weightless; the output carries no Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/reshaping_layer.hpp"

namespace kattn {

class Cropping1D : public ReshapingLayer {
 public:
  struct Args {
    IntOrList cropping = {1, 1};  // (lo, hi), or one int for both; each >= 0
    std::string name = "";        // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Cropping1D();
  // ValueError unless cropping is one int or two, each >= 0 (Keras's standardize_tuple).
  explicit Cropping1D(Args args);
  static std::unique_ptr<Cropping1D> from_config(const Config& config);

  // ValueError for inputs of another rank than 3, or when nothing of the steps would be left.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  const std::vector<int64_t>& cropping() const { return cropping_; }
  Config get_config() const override;

 protected:
  // d_output between lo and hi zeros on the steps axis.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  void check_length(const Shape& input_shape) const;

  std::vector<int64_t> cropping_;
};

}  // namespace kattn
