// keras.layers.ZeroPadding1D, exact to Keras 3.16.
//
//   channels_last:  inputs (B, T, C) -> output (B, lo + T + hi, C), zeros before and after
//   channels_first: inputs (B, C, T) -> output (B, C, lo + T + hi)
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

class ZeroPadding1D : public ReshapingLayer {
 public:
  struct Args {
    IntOrList padding = 1;                      // (lo, hi), or one int for both; each >= 0
    std::string data_format = "channels_last";  // or "channels_first", any case
    std::string name = "";                      // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  ZeroPadding1D();
  // ValueError unless padding is one int or two, each >= 0, and for an unknown data_format.
  explicit ZeroPadding1D(Args args);
  // null data_format is Keras's default image_data_format, channels_last.
  static std::unique_ptr<ZeroPadding1D> from_config(const Config& config);

  // ValueError for inputs of another rank than 3.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  const std::vector<int64_t>& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }
  Config get_config() const override;

 protected:
  // d_output without the padded steps.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  int64_t steps_axis() const { return data_format_ == "channels_last" ? 1 : 2; }

  std::vector<int64_t> padding_;
  std::string data_format_;
};

}  // namespace kattn
