// keras.layers.Conv1D, exact to Keras 3.16 (data_format "channels_last").
//
//   inputs (B, L, C), kernel (k, C / groups, filters), bias (filters,)
//   xp = inputs zero-padded along L:
//     "valid"  no padding                           out_len = floor((L - (k - 1) * d - 1) / s) + 1
//     "causal" (k - 1) * d zeros before             out_len = ceil(L / s)
//     "same"   total = max((out_len - 1) * s + (k - 1) * d + 1 - L, 0),
//              floor(total / 2) before, the rest after   out_len = ceil(L / s)
//   y[b, i, o] = activation(bias[o] + sum_t sum_c xp[b, i * s + t * d, g * C / groups + c]
//                                                   * kernel[t, c, o]),  g = o / (filters / groups)
// A cross-correlation (the kernel is not flipped); s = strides, d = dilation_rate.
//
// Conv1D does not support masking: its output carries no mask, whatever its input carried
// (Keras only warns).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {

class Conv1D : public UnaryLayer {
 public:
  // Keras's constructor arguments, with Keras's defaults. filters and kernel_size are required:
  // their 0 defaults are refused with Keras's messages.
  struct Args {
    int64_t filters = 0;                        // > 0, divisible by groups
    IntOrList kernel_size = 0;                  // k > 0: an int or a list of one int
    IntOrList strides = 1;                      // s > 0; s > 1 excludes d > 1
    std::string padding = "valid";              // "valid", "same" or "causal", any case
    std::string data_format = "channels_last";  // "channels_first" is refused by name
    IntOrList dilation_rate = 1;                // d > 0
    int64_t groups = 1;                         // > 0; divides filters and the input channels
    ActivationFunction activation = ActivationFunction();  // Keras's None: linear
    bool use_bias = true;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    std::string name = "conv1d";
    bool trainable = true;
  };

  // Validates the arguments (ValueError with Keras's wording).
  explicit Conv1D(Args args);
  // Keras's from_config: the keys of get_config(); kernel_size, strides and dilation_rate may
  // be ints or lists. LoRA and DoRA (lora_rank, lora_alpha, dora_rank, dora_alpha) are accepted
  // only as null. Unknown keys raise ValueError.
  static std::unique_ptr<Conv1D> from_config(const Config& config);

  // Creates kernel (k, C / groups, filters) then bias (filters,) for inputs (B, L, C): only C
  // matters, B and L may be -1 (Keras's None). Done by the first call when not done; a no-op
  // once built.
  void build(const Shape& input_shape) override;
  // (B, L, C) -> (B, out_len, filters); -1 passes through.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Tensor& inputs) const override;

  // A training call: call() that also keeps what backward() needs (the inputs, and what the
  // activation's derivative reads).
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns d_inputs (B, L, C) and adds the gradients of kernel and bias into
  // weight_gradients (zero_gradients(), weights() order). With dy = activation'(d_output):
  //   d_inputs[b, i * s + t * d - left, g * C / groups + c] += dy[b, i, o] * kernel[t, c, o]
  //   d_kernel[t, c, o] += xp[b, i * s + t * d, g * C / groups + c] * dy[b, i, o]
  //   d_bias[o] += sum over b, i of dy[b, i, o]
  // Padding positions take no gradient.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  int64_t filters() const { return filters_; }
  int64_t kernel_size() const { return kernel_size_; }
  int64_t strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  int64_t dilation_rate() const { return dilation_rate_; }
  int64_t groups() const { return groups_; }
  const ActivationFunction& activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }

  Config get_config() const override;

 private:
  void build_weights(const Shape& input_shape);
  // Builds on the first call and checks the inputs' channels; returns the output shape.
  Shape prepare(const Tensor& inputs) const;
  // The zeros padded before the sequence for inputs of `length` steps giving `out_length`.
  int64_t padding_before(int64_t length, int64_t out_length) const;
  // The convolution before the activation, of contiguous inputs.
  Tensor linear(const Tensor& x, const Shape& output_shape) const;

  int64_t filters_;
  int64_t kernel_size_;
  int64_t strides_;
  std::string padding_;
  int64_t dilation_rate_;
  int64_t groups_;
  ActivationFunction activation_;
  bool use_bias_;
  WeightArgs kernel_;
  WeightArgs bias_;
  Config activity_regularizer_;
};

}  // namespace kattn
