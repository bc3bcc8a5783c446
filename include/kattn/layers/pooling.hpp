// keras.layers.GlobalAveragePooling1D and keras.layers.GlobalMaxPooling1D, exact to Keras 3.16.
//
//   channels_last inputs (B, T, C) -> (B, C), or (B, 1, C) with keepdims
//   channels_first inputs (B, C, T) -> (B, C), or (B, C, 1) with keepdims
//   average: sum_t x[b, t, c] / T; with a mask m (B, T):
//            sum_t x[b, t, c] * m[b, t] / sum_t m[b, t]  (a fully masked row is 0 / 0 = NaN)
//   max:     max_t x[b, t, c] (NaN propagates, as numpy's max)
// Neither output carries a mask.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

// Keras's BaseGlobalPooling with pool_dimensions=1: the arguments, shapes and config both
// layers share. Weightless: built from construction, as in Keras.
class GlobalPooling1D : public UnaryLayer {
 public:
  // Keras's BaseGlobalPooling.compute_output_shape; -1 passes through.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // GlobalAveragePooling1D.compute_mask returns None, and GlobalMaxPooling1D does not support
  // masking: neither passes a mask on.
  std::optional<Mask> compute_mask() const { return std::nullopt; }

  const std::string& data_format() const { return data_format_; }
  bool keepdims() const { return keepdims_; }

  Config get_config() const override;

 protected:
  GlobalPooling1D(std::string class_name, LayerArgs args, const std::string& data_format,
                  bool keepdims);
  // Reduces the steps axis of a rank-3 `inputs` into the output: `reduce(b, first, steps,
  // stride)` gets the `steps` elements of one (b, c) pair, `stride` elements apart from `first`.
  Tensor pool(const Tensor& inputs,
              const std::function<float(int64_t b, const float* first, int64_t steps,
                                        int64_t stride)>& reduce) const;
  // The backward of pool(): `spread(b, c, d, first, d_first, steps, stride)` writes the gradients
  // of one (b, c) pair's steps (at d_first, laid out as `first` is in the inputs) from the
  // gradient `d` of its output. `x` is the forward's contiguous inputs.
  Tensor unpool(
      const Tensor& x, const Tensor& d_output,
      const std::function<void(int64_t b, int64_t c, float d, const float* first, float* d_first,
                               int64_t steps, int64_t stride)>& spread) const;
  int64_t steps_axis() const { return data_format_ == "channels_last" ? 1 : 2; }

 private:
  std::string data_format_;
  bool keepdims_;
};

class GlobalAveragePooling1D : public GlobalPooling1D {
 public:
  struct Args {
    std::string data_format = "channels_last";  // or "channels_first", any case
    bool keepdims = false;
    std::string name = "global_average_pooling1d";
    bool trainable = true;
  };

  GlobalAveragePooling1D();
  explicit GlobalAveragePooling1D(Args args);
  // Keras's from_config: the keys of get_config(); unknown keys raise ValueError.
  static std::unique_ptr<GlobalAveragePooling1D> from_config(const Config& config);

  // `mask` (B, T): false steps are left out of both the sum and the count.
  Tensor call(const Tensor& inputs, const std::optional<Mask>& mask) const;
  Tensor call(const Tensor& inputs) const override { return call(inputs, std::nullopt); }
  // A training call: call() that also keeps the inputs and the mask for backward().
  LayerForward forward(const Tensor& inputs, const std::optional<Mask>& mask) const;
  LayerForward forward(const Tensor& inputs) const override {
    return forward(inputs, std::nullopt);
  }
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: d_inputs[b, t, c] = d_output[b, c] / T, or with a mask d_output[b, c] /
  // sum_t m[b, t] where m[b, t] and 0 elsewhere (Keras's where(mask, inputs, 0) passes nothing
  // to masked steps, so a fully masked row gets 0, not NaN). weight_gradients is
  // zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  bool call_takes_mask() const override { return true; }
  Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override {
    return call(inputs, mask);
  }
  LayerForward forward_masked(const Tensor& inputs,
                              const std::optional<Mask>& mask) const override {
    return forward(inputs, mask);
  }
};

class GlobalMaxPooling1D : public GlobalPooling1D {
 public:
  struct Args {
    std::string data_format = "channels_last";  // or "channels_first", any case
    bool keepdims = false;
    std::string name = "global_max_pooling1d";
    bool trainable = true;
  };

  GlobalMaxPooling1D();
  explicit GlobalMaxPooling1D(Args args);
  static std::unique_ptr<GlobalMaxPooling1D> from_config(const Config& config);

  // No mask argument: Keras's GlobalMaxPooling1D.call takes none and the layer does not
  // support masking, so a Keras mask on the input is ignored (masked steps count in the max).
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps the inputs and the maxima for backward().
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: each (b, c) pair's gradient goes to the steps equal to its maximum, split
  // equally when several tie, as TensorFlow's and JAX's gradient of reduce_max does:
  // d_inputs = d * (x == max) / count(x == max). A NaN maximum equals no step and the 0 / 0
  // makes the pair's gradients NaN, as there. weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;
};

}  // namespace kattn
