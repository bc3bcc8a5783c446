// keras.layers.Flatten, exact to Keras 3.16.
//
//   channels_last:  inputs (B, d1, ..., dn) -> output (B, d1 * ... * dn), row-major
//   channels_first: inputs (B, C, d2, ..., dn) are first transposed to (B, d2, ..., dn, C)
//   inputs (B,) -> output (B, 1)
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

class Flatten : public ReshapingLayer {
 public:
  struct Args {
    std::string data_format = "channels_last";  // or "channels_first", any case
    std::string name = "";                      // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Flatten();
  explicit Flatten(Args args);
  // null data_format is Keras's default image_data_format, channels_last.
  static std::unique_ptr<Flatten> from_config(const Config& config);

  // (B, product of the other sizes), -1 (None) when one of them is unknown; ValueError for
  // inputs of rank 0 (Keras's InputSpec(min_ndim=1)).
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  const std::string& data_format() const { return data_format_; }
  Config get_config() const override;

 protected:
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  // The transpose channels_first makes of rank-`rank` inputs: (0, 2, ..., rank - 1, 1); empty
  // when there is none.
  std::vector<int64_t> channels_last_axes(size_t rank) const;

  std::string data_format_;
};

}  // namespace kattn
