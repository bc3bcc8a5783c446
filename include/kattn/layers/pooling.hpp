// keras.layers.GlobalAveragePooling1D/2D and keras.layers.GlobalMaxPooling1D/2D, exact to
// Keras 3.16.
//
//   channels_last inputs (B, S0[, S1], C) -> (B, C), or (B, 1[, 1], C) with keepdims
//   channels_first inputs (B, C, S0[, S1]) -> (B, C), or (B, C, 1[, 1]) with keepdims
//   average: the mean over the spatial cells; GlobalAveragePooling1D with a mask m (B, T):
//            sum_t x[b, t, c] * m[b, t] / sum_t m[b, t]  (a fully masked row is 0 / 0 = NaN)
//   max:     the largest spatial cell (NaN propagates, as numpy's max)
// No output carries a mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

// Keras's BaseGlobalPooling: the arguments, shapes and config the four layers share.
// Weightless: built from construction, as in Keras.
class BaseGlobalPooling : public UnaryLayer {
 public:
  struct Args {
    std::string data_format = "channels_last";  // or "channels_first", any case
    bool keepdims = false;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // Keras's BaseGlobalPooling.compute_output_shape; -1 passes through.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // GlobalAveragePooling1D.compute_mask returns None, and the others do not support masking:
  // none passes a mask on.
  std::optional<Mask> compute_mask() const { return std::nullopt; }

  const std::string& data_format() const { return data_format_; }
  bool keepdims() const { return keepdims_; }

  Config get_config() const override;

 protected:
  BaseGlobalPooling(std::string class_name, size_t pool_dimensions, Args args);
  // A config's arguments (BaseGlobalPooling.get_config's keys, null data_format channels_last);
  // unknown keys raise ValueError.
  static Args read_args(const Config& config, std::string_view class_name);

  // Keras's InputSpec(ndim=pool_dimensions + 2).
  void check_rank(const Shape& input_shape) const;
  // The spatial cells of one (b, c) pair: the product of the spatial sizes.
  int64_t cells(const Shape& input_shape) const;
  // Reduces the spatial cells of `inputs` into the output: `reduce(b, first, n, stride)` gets
  // the `n` cells of one (b, c) pair, `stride` elements apart from `first`.
  Tensor pool(const Tensor& inputs,
              const std::function<float(int64_t b, const float* first, int64_t n, int64_t stride)>&
                  reduce) const;
  // The backward of pool(): `spread(b, c, d, first, d_first, n, stride)` writes the gradients of
  // one (b, c) pair's cells (at d_first, laid out as `first` is in the inputs) from the
  // gradient `d` of its output. `x` is the forward's contiguous inputs.
  Tensor unpool(const Tensor& x, const Tensor& d_output,
                const std::function<void(int64_t b, int64_t c, float d, const float* first,
                                         float* d_first, int64_t n, int64_t stride)>& spread) const;

 private:
  size_t pool_dimensions_;
  std::string data_format_;
  bool keepdims_;
};

// GlobalAveragePooling1D/2D: the mean over the spatial cells.
class GlobalAveragePooling : public BaseGlobalPooling {
 public:
  Tensor call(const Tensor& inputs) const override { return mean(inputs, std::nullopt); }
  LayerForward forward(const Tensor& inputs) const override {
    return mean_forward(inputs, std::nullopt);
  }
  // Backpropagates d_output (the output's shape) through the forward call that gave `forward`:
  // d_inputs = d_output / n for the n cells, or with a mask d_output[b, c] / sum_t m[b, t]
  // where m[b, t] and 0 elsewhere (Keras's where(mask, inputs, 0) passes nothing to masked
  // steps, so a fully masked row gets 0, not NaN). weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  using BaseGlobalPooling::BaseGlobalPooling;
  // `mask` (B, T), 1-D only: false steps are left out of both the sum and the count.
  Tensor mean(const Tensor& inputs, const std::optional<Mask>& mask) const;
  LayerForward mean_forward(const Tensor& inputs, const std::optional<Mask>& mask) const;
};

class GlobalAveragePooling1D : public GlobalAveragePooling {
 public:
  using Args = BaseGlobalPooling::Args;

  GlobalAveragePooling1D();
  explicit GlobalAveragePooling1D(Args args);
  // Keras's from_config: the keys of get_config(); unknown keys raise ValueError.
  static std::unique_ptr<GlobalAveragePooling1D> from_config(const Config& config);

  // `mask` (B, T): false steps are left out of both the sum and the count.
  Tensor call(const Tensor& inputs, const std::optional<Mask>& mask) const {
    return mean(inputs, mask);
  }
  using GlobalAveragePooling::call;
  // A training call: call() that also keeps the inputs and the mask for backward().
  LayerForward forward(const Tensor& inputs, const std::optional<Mask>& mask) const {
    return mean_forward(inputs, mask);
  }
  using GlobalAveragePooling::forward;

 protected:
  bool call_takes_mask() const override { return true; }
  Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override {
    return mean(inputs, mask);
  }
  LayerForward forward_masked(const Tensor& inputs,
                              const std::optional<Mask>& mask) const override {
    return mean_forward(inputs, mask);
  }
};

// No mask argument: Keras's GlobalAveragePooling2D.call takes none.
class GlobalAveragePooling2D : public GlobalAveragePooling {
 public:
  using Args = BaseGlobalPooling::Args;

  GlobalAveragePooling2D();
  explicit GlobalAveragePooling2D(Args args);
  static std::unique_ptr<GlobalAveragePooling2D> from_config(const Config& config);
};

// GlobalMaxPooling1D/2D: the largest spatial cell. No mask argument: Keras's calls take none
// and the layers do not support masking, so a Keras mask on the input is ignored (masked steps
// count in the max).
class GlobalMaxPooling : public BaseGlobalPooling {
 public:
  Tensor call(const Tensor& inputs) const override;
  // A training call: call() that also keeps the inputs and the maxima for backward().
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: each (b, c) pair's gradient goes to the cells equal to its maximum, split
  // equally when several tie, as TensorFlow's and JAX's gradient of reduce_max does:
  // d_inputs = d * (x == max) / count(x == max). A NaN maximum equals no cell and the 0 / 0
  // makes the pair's gradients NaN, as there. weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  using BaseGlobalPooling::BaseGlobalPooling;
};

class GlobalMaxPooling1D : public GlobalMaxPooling {
 public:
  using Args = BaseGlobalPooling::Args;

  GlobalMaxPooling1D();
  explicit GlobalMaxPooling1D(Args args);
  static std::unique_ptr<GlobalMaxPooling1D> from_config(const Config& config);
};

class GlobalMaxPooling2D : public GlobalMaxPooling {
 public:
  using Args = BaseGlobalPooling::Args;

  GlobalMaxPooling2D();
  explicit GlobalMaxPooling2D(Args args);
  static std::unique_ptr<GlobalMaxPooling2D> from_config(const Config& config);
};

}  // namespace kattn
