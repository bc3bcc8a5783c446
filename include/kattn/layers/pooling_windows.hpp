// keras.layers.MaxPooling1D, AveragePooling1D, MaxPooling2D and AveragePooling2D over Keras's
// BasePooling, exact to Keras 3.16.
//
//   channels_last inputs (B, S0[, S1], C) -> (B, P0[, P1], C); channels_first (B, C, S0[, S1])
//   -> (B, C, P0[, P1]); per spatial axis windows of pool_size cells every strides cells:
//     "valid": P = floor((S - pool_size) / strides) + 1
//     "same":  P = ceil(S / strides), the input padded by the SAME rule (total = max((P - 1) *
//              strides + pool_size - S, 0), total // 2 before); padded cells count in neither
//              the max nor the average (which divides by the window's real cells)
// Weightless, built at construction; the output carries no Keras mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class BasePooling : public UnaryLayer {
 public:
  // The four classes' constructor arguments, with Keras's defaults.
  struct Args {
    IntOrList pool_size = 2;  // an int for every spatial axis, or one per axis; > 0
    std::optional<IntOrList> strides = std::nullopt;  // None: pool_size; > 0
    std::string padding = "valid";                    // or "same"
    std::string data_format = "channels_last";        // or "channels_first", any case
    std::string name = "";                            // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // (B, P0[, P1], C) as above, -1 (None) staying unknown; ValueError for inputs of another rank
  // and when a "valid" window is larger than its axis ("Computed output size would be zero or
  // negative").
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps the inputs for backward().
  LayerForward forward(const Tensor& inputs) const override;
  // max: each window's gradient goes to its first largest cell (row-major), as the gradient of
  // Keras's JAX and TensorFlow backends does; average: spread over the window's real cells.
  // Overlapping windows add up. weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const std::vector<int64_t>& pool_size() const { return pool_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }
  Config get_config() const override;

 protected:
  // ValueError for pool_size or strides that are not pool_dimensions ints > 0, a padding other
  // than "valid" or "same", or an unknown data_format.
  BasePooling(std::string class_name, size_t pool_dimensions, bool max, Args args);
  // A config's arguments (BasePooling.get_config's keys; null strides is pool_size, null
  // data_format channels_last); unknown keys raise ValueError.
  static Args read_args(const Config& config, std::string_view class_name);

 private:
  void check_rank(const Shape& input_shape) const;

  bool max_;
  std::vector<int64_t> pool_size_;
  std::vector<int64_t> strides_;
  std::string padding_;
  std::string data_format_;
};

class MaxPooling1D : public BasePooling {
 public:
  MaxPooling1D() : MaxPooling1D(Args{}) {}
  explicit MaxPooling1D(Args args);
  static std::unique_ptr<MaxPooling1D> from_config(const Config& config);
};

class AveragePooling1D : public BasePooling {
 public:
  AveragePooling1D() : AveragePooling1D(Args{}) {}
  explicit AveragePooling1D(Args args);
  static std::unique_ptr<AveragePooling1D> from_config(const Config& config);
};

class MaxPooling2D : public BasePooling {
 public:
  MaxPooling2D() : MaxPooling2D(Args{}) {}
  explicit MaxPooling2D(Args args);
  static std::unique_ptr<MaxPooling2D> from_config(const Config& config);
};

class AveragePooling2D : public BasePooling {
 public:
  AveragePooling2D() : AveragePooling2D(Args{}) {}
  explicit AveragePooling2D(Args args);
  static std::unique_ptr<AveragePooling2D> from_config(const Config& config);
};

}  // namespace kattn
