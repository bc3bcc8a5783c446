// The base of Keras's weightless reshaping layers (keras/src/layers/reshaping/): Reshape, Flatten,
// Permute, RepeatVector, Cropping1D, ZeroPadding1D, UpSampling1D. Each moves, copies or drops input
// elements without arithmetic, so its training call keeps only the input's shape and its backward
// is the layer's `gradient` of d_output. None passes a Keras mask on. The layers Keras builds in
// __init__ (self.built = True) record no build_config; the others build, weightless, on their
// first call and record the shape they were built for, as Keras's Layer.build does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class ReshapingLayer : public UnaryLayer {
 public:
  // Marks the layer built (there are no weights).
  void build(const Shape& input_shape) override;
  // call() that also keeps the input's shape for backward().
  LayerForward forward(const Tensor& inputs) const override;
  // The layer's gradient() of d_output (the output's shape) for the forward() that gave
  // `forward`. weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

 protected:
  // BuildRecord::kNotRecorded: built at construction, as the Keras classes that set
  // self.built = True in __init__.
  ReshapingLayer(std::string class_name, LayerArgs args, BuildRecord build_record);

  // d_inputs (input_shape) for d_output, a contiguous tensor of the output's shape.
  virtual Tensor gradient(const Tensor& d_output, const Shape& input_shape) const = 0;

  // Keras's InputSpec(ndim=n): ValueError "Input 0 is incompatible with the layer" otherwise.
  void check_rank(const Shape& input_shape, size_t ndim) const;

  // numpy.transpose(x, axes): a contiguous copy whose axis i is x's axis axes[i].
  static Tensor transpose(const Tensor& x, const std::vector<int64_t>& axes);
  // x with `before` zeros ahead of and `after` zeros behind its elements along `axis` (numpy.pad
  // of that axis), contiguous.
  static Tensor pad_axis(const Tensor& x, int64_t axis, int64_t before, int64_t after);
  // The axes that undo transpose(x, axes).
  static std::vector<int64_t> inverse_axes(const std::vector<int64_t>& axes);
};

}  // namespace kattn
