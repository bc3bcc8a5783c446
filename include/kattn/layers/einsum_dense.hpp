// keras.layers.EinsumDense, exact to Keras 3.16.
//
//   output = activation(einsum(equation, inputs, kernel) + bias)
//
// `equation` is "<input>,<kernel>-><output>" in letters, optionally with "..." at the left of
// the input and output ("...b,bc->...c") or at their right ("ab...,bc->ac..."), as Keras's
// _analyze_einsum_string accepts them. Any einsum of that form is computed: axes shared by the
// input and the kernel but absent from the output are contracted, input axes in neither the
// kernel nor the output are summed, axes in all three act as batch axes. The kernel's shape
// comes from the input shape and `output_shape` (the output's shape without its first axis and
// the ellipsis axes; -1 is Keras's None); the bias, when `bias_axes` names output letters, has
// the output's trailing shape from the first bias axis on, with 1 for the axes not in
// bias_axes, e.g. "abc,cde->abde" with bias_axes "d": bias (d, 1). kattn does not implement
// LoRA or quantization: from_config accepts lora_rank, lora_alpha,
// gptq_unpacked_column_size and quantization_config only as null.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {

class EinsumDense : public UnaryLayer {
 public:
  // Keras's constructor arguments, with Keras's defaults. equation and output_shape are
  // required: an empty equation is refused.
  struct Args {
    std::string equation = "";  // e.g. "abc,cd->abd"
    Shape output_shape = {};    // -1: None (inferred from the input); Keras's int n is {n}
    ActivationFunction activation = ActivationFunction();  // Keras's None: linear
    std::optional<std::string> bias_axes = std::nullopt;   // output letters with a bias
    // Keras's kernel_* and bias_* arguments (no initializer: glorot_uniform, zeros).
    WeightArgs kernel = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    std::string name = "";                  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // Checks the equation's form (ValueError with Keras's message).
  explicit EinsumDense(Args args);
  static std::unique_ptr<EinsumDense> from_config(const Config& config);

  // Creates kernel, then bias (with bias_axes), for inputs of this shape; dimensions the kernel
  // does not depend on may be -1. Done by the first call when not done; a no-op once built.
  void build(const Shape& input_shape) override;
  // Keras's full output shape: the input's first dimension, then output_shape, with the
  // ellipsis axes in place; -1 where output_shape has None.
  Shape compute_output_shape(const Shape& input_shape) const override;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Tensor& inputs) const override;

  // A training call: call() that also keeps what backward() needs (the inputs, and what the
  // activation's derivative reads).
  LayerForward forward(const Tensor& inputs) const override;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: returns d_inputs and adds the gradients of kernel and bias into
  // weight_gradients (zero_gradients(), weights() order). With d_linear = activation'(d_output):
  //   d_inputs = einsum(d_linear, kernel) over the kernel's output letters (an input axis in
  //              neither operand of the equation, which the einsum sums, gets d broadcast)
  //   d_kernel += einsum(inputs, d_linear) over the batch and free letters
  //   d_bias += d_linear summed over the axes the bias is broadcast along
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  const std::string& equation() const { return equation_; }
  const Shape& output_shape() const { return output_shape_; }
  const std::optional<std::string>& bias_axes() const { return bias_axes_; }
  const ActivationFunction& activation() const { return activation_; }

  Config get_config() const override;

 private:
  struct Analysis {
    Shape kernel_shape;
    std::optional<Shape> bias_shape;
    Shape output_shape;
  };
  // Keras's _analyze_split_string for inputs of this shape.
  Analysis analyze(const Shape& input_shape) const;
  void build_weights(const Shape& input_shape);
  // One call's operand labels, the ellipsis spelled out in letters the equation does not use.
  struct CallLabels {
    std::string inputs;
    std::string output;
    Shape output_shape;
    // The Dense-like equations (inputs = free + contracted, kernel = contracted + new, output =
    // free + new) are one matrix product over the `contracted` trailing input axes.
    bool is_product = false;
    int64_t contracted = 0;
  };
  // Builds on the first call, checks the inputs against the kernel and labels the call.
  CallLabels prepare(const Tensor& inputs) const;
  // einsum(equation, inputs, kernel) + bias, before the activation.
  Tensor linear(const Tensor& inputs, const CallLabels& labels) const;

  std::string equation_;
  Shape output_shape_;
  ActivationFunction activation_;
  std::optional<std::string> bias_axes_;
  WeightArgs kernel_;
  WeightArgs bias_;
  Config activity_regularizer_;
  // The equation's parts; "..." stands for the input's extra axes on `elided_side`.
  std::string input_spec_;
  std::string kernel_spec_;
  std::string output_spec_;
  enum class Elided { kNone, kLeft, kRight } elided_side_ = Elided::kNone;
  int64_t built_rank_ = 0;
};

}  // namespace kattn
