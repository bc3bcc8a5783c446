// keras.layers.Softmax, exact to Keras 3.16.
//
//   inputs (...); axis: an int or a list of ints (softmax over those axes jointly)
//   without a mask: y = softmax(inputs, axis)                      (kattn/ops/softmax.hpp)
//   mask (broadcast to the inputs from the right: each of its dims 1 or the input's):
//     y = where(mask, softmax(where(mask, inputs, -1e9), axis), 0)
//
// The mask is the call's `mask` argument, else the input's Keras mask; the output keeps the
// input's Keras mask.
#pragma once

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

class Softmax : public UnaryLayer {
 public:
  struct Args {
    IntOrList axis = -1;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Softmax();
  explicit Softmax(Args args);
  static std::unique_ptr<Softmax> from_config(const Config& config);

  // ValueError for an axis outside the inputs' rank, a repeated axis, or a mask that does not
  // broadcast to the inputs (Keras's wording).
  Tensor call(const Tensor& inputs) const override { return call_masked(inputs, std::nullopt); }
  Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  LayerForward forward(const Tensor& inputs) const override {
    return forward_masked(inputs, std::nullopt);
  }
  LayerForward forward_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  // d_inputs = the softmax's backward of d_output, 0 where the mask is false.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;
  bool call_takes_mask() const override { return true; }

  const IntOrList& axis() const { return axis_; }
  Config get_config() const override;

 private:
  std::vector<int64_t> resolve_axes(const Shape& input_shape) const;
  // The mask stretched to the inputs' shape (checked as Keras checks it).
  Mask broadcast_mask(const Mask& mask, const Shape& input_shape) const;

  IntOrList axis_;
};

}  // namespace kattn
