// Keras's BaseConv: the arguments, weights, shapes and arithmetic Conv1D and Conv2D share,
// exact to Keras 3.16.
//
//   channels_last inputs (B, S0[, S1], C), channels_first (B, C, S0[, S1]);
//   kernel (k0[, k1], C / groups, filters), bias (filters,)
//   per spatial axis (s = strides, d = dilation_rate, k = kernel_size):
//     "valid"  no padding                        P = floor((S - (k - 1) * d - 1) / s) + 1
//     "causal" (Conv1D only) (k - 1) * d zeros before      P = ceil(S / s)
//     "same"   total = max((P - 1) * s + (k - 1) * d + 1 - S, 0),
//              floor(total / 2) before, the rest after     P = ceil(S / s)
//   y[b, i, j, o] = activation(bias[o] + sum_{p, q, c} xp[b, i * s0 + p * d0, j * s1 + q * d1,
//                                             g * C / groups + c] * kernel[p, q, c, o])
//   with g = o / (filters / groups): a cross-correlation (the kernel is not flipped).
//
// The convolutions do not support masking: their outputs carry no mask, whatever their input
// carried (Keras only warns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {

namespace ops {
struct Convolution;
}  // namespace ops

class BaseConv : public UnaryLayer {
 public:
  // Keras's constructor arguments, with Keras's defaults. filters and kernel_size are required:
  // their 0 defaults are refused with Keras's messages.
  struct Args {
    int64_t filters = 0;                        // > 0, divisible by groups
    IntOrList kernel_size = 0;                  // > 0: an int for every axis or one per axis
    IntOrList strides = 1;                      // > 0; strides > 1 excludes dilation_rate > 1
    std::string padding = "valid";              // "valid", "same" or (Conv1D) "causal", any case
    std::string data_format = "channels_last";  // or "channels_first", any case
    IntOrList dilation_rate = 1;                // > 0
    int64_t groups = 1;                         // > 0; divides filters and the input channels
    ActivationFunction activation = ActivationFunction();  // Keras's None: linear
    bool use_bias = true;
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    std::string name = "";                  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // Creates kernel (k0[, k1], C / groups, filters) then bias (filters,) for inputs of this
  // shape: only C matters, the others may be -1 (Keras's None). Done by the first call when not
  // done; a no-op once built.
  void build(const Shape& input_shape) override;
  // The output shape, -1 passing through.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Tensor& inputs) const override;

  // A training call: call() that also keeps what backward() needs (the inputs, and what the
  // activation's derivative reads).
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns d_inputs and adds the gradients of kernel and bias into
  // weight_gradients (zero_gradients(), weights() order), through ops::convolution_backward of
  // dy = activation'(d_output). Padding cells take no gradient.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  int64_t filters() const { return filters_; }
  const std::string& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }
  int64_t groups() const { return groups_; }
  const ActivationFunction& activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }

  Config get_config() const override;

 protected:
  // Validates the arguments in BaseConv.__init__'s order (ValueError with Keras's wording).
  BaseConv(std::string class_name, size_t rank, Args args);
  // Keras's from_config: the keys of get_config(); kernel_size, strides and dilation_rate may
  // be ints or lists. LoRA and DoRA (lora_rank, lora_alpha, dora_rank, dora_alpha) are accepted
  // only as null. Unknown keys raise ValueError.
  static Args read_args(const Config& config, std::string_view class_name);

  std::vector<int64_t> kernel_size_;
  std::vector<int64_t> strides_;
  std::vector<int64_t> dilation_rate_;

 private:
  void build_weights(const Shape& input_shape);
  // Builds on the first call and checks the inputs' channels; returns the output shape.
  Shape prepare(const Tensor& inputs) const;
  size_t channel_axis(size_t rank) const;
  // The op's geometry for channels_last inputs of this shape.
  ops::Convolution convolution_for(const Shape& x_shape) const;
  // The convolution before the activation, of channels_last contiguous inputs.
  Tensor linear(const Tensor& x) const;

  int64_t filters_;
  std::string padding_;
  std::string data_format_;
  int64_t groups_;
  ActivationFunction activation_;
  bool use_bias_;
  WeightArgs kernel_;
  WeightArgs bias_;
  Config activity_regularizer_;
};

}  // namespace kattn
