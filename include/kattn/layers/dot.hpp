// keras.layers.Dot, exact to Keras 3.16: the batched dot product of two inputs along one axis
// of each (keras.src.layers.merging.dot.batch_dot).
//
//   x (B, ..., K at axes[0], ...), y (B, ..., K at axes[1], ...)
//   output[b, i..., j...] = sum_k x[b, i... with k at axes[0]] * y[b, j... with k at axes[1]]:
//   x's other axes, then y's other non-batch axes, each in order; (B, 1) when that leaves
//   the batch axis alone (two 2-D inputs)
//   normalize: each input first divided by its L2 norm along its dot axis (a zero norm counts
//   as 1: numpy's keras.utils.normalize), so two 2-D inputs give their cosine similarity
//
// `axes`: one int for both inputs, or a pair; negative axes count from the end; the batch axis
// cannot be one. The output carries no Keras mask.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"
#include "kattn/layers/merging.hpp"

namespace kattn {

class Dot : public Merge {
 public:
  struct Args {
    IntOrList axes = -1;  // required in Keras: an int, or a list of two ints
    bool normalize = false;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError (Keras's wording) for a list of axes that is not two ints.
  explicit Dot(Args args);
  static std::unique_ptr<Dot> from_config(const Config& config);

  // Dot.build and compute_output_shape: exactly two inputs of rank >= 2 whose dot axes (not the
  // batch axis) have equal sizes (ValueError naming them otherwise).
  Shape compute_output_shape(const std::vector<Shape>& input_shapes) const override;
  // Always none (Dot.compute_mask).
  std::optional<Mask> compute_mask(const std::vector<Tensor>& inputs,
                                   const std::vector<std::optional<Mask>>& masks) const override;

  const IntOrList& axes() const { return axes_; }
  bool normalize() const { return normalize_; }
  Config get_config() const override;

 protected:
  bool records_symbolic_mask() const override { return false; }
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;

 private:
  // The two dot axes, non-negative, for inputs of ranks `x_rank` and `y_rank`.
  std::array<int64_t, 2> resolved_axes(int64_t x_rank, int64_t y_rank) const;

  IntOrList axes_;
  bool normalize_;
};

}  // namespace kattn
