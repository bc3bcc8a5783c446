// keras.layers.Add, Subtract, Multiply, Average, Maximum, Minimum and Concatenate over Keras's
// Merge, exact to Keras 3.16. Each takes a list of tensors (B, ...).
//
//   Add, Multiply: ((x_0 op x_1) op x_2) ..., elementwise in float32. Subtract: x_0 - x_1 (exactly
//     two inputs). Average: (x_0 + x_1 + ...) / n. Maximum, Minimum: max(max(x_0, x_1), x_2) ...
//     (min likewise); their backward splits a tie between the two sides of each pairwise step
//     in halves, as jax's and torch's autodiff do. An input of lower rank
//     gets axes of length 1 after its batch axis until the ranks agree (Merge.call's
//     expand_dims(x, axis=1)); then axes of length 1 broadcast, as in numpy. Batch sizes must
//     agree.
//   Concatenate: inputs equal on every axis but `axis`, joined along it.
//
// Masks, into the values (Keras's _merge_function, where each (B, T) mask is stretched over
// its input's last axis):
//   Multiply: a masked element counts as 1; when every input has a mask, the output is 0 where
//     all of them are masked.
//   Maximum, Minimum (_apply_merge_op_and_or_mask): at each pairwise step a masked element of
//     the next input takes the running result's value, and a masked element of the running
//     result the next input's; so a masked element takes the other inputs' value, and the
//     first input's when all are masked.
//   An input of lower rank than the output is unmasked here (expand_dims drops its mask).
// Masks of the output (Keras's compute_mask):
//   Add, Subtract, Multiply, Average, Maximum, Minimum (Merge.compute_mask): none unless every
//   input has one; then their logical OR. Concatenate.compute_mask: none when no input has one;
//   otherwise each input's mask (all true for an input without one; a mask of lower rank is
//   broadcast over the input's last axis) is concatenated along `axis`, then reduced with
//   any() over the last axis.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

// Keras's Merge: list inputs, shape checks and the OR mask rule. Weightless.
class Merge : public Layer {
 public:
  // Merge.build: checks the input shapes (there is nothing to create). -1 dims are unknown.
  void build(const std::vector<Shape>& input_shapes);
  // Merge.compute_output_shape (and build's checks): the batch size the inputs agree on (-1
  // when none is known), then the elementwise broadcast of their other axes aligned on the
  // right; a -1 on either side gives -1.
  virtual Shape compute_output_shape(const std::vector<Shape>& input_shapes) const;
  // Const and safe to call from several threads at once. `masks`: the inputs' Keras masks (one
  // per input, nullopt for an input without one; empty when none has one), which Multiply,
  // Maximum and Minimum read.
  Tensor call(const std::vector<Tensor>& inputs,
              const std::vector<std::optional<Mask>>& masks = {}) const;
  // A training call: call() that also keeps the inputs for backward().
  LayerForward forward(const std::vector<Tensor>& inputs,
                       const std::vector<std::optional<Mask>>& masks = {}) const;
  // Backpropagates d_output (the output's shape) through the forward() call that gave
  // `forward`: one gradient per input, in order, each of its input's shape. An input passed
  // twice gets two entries (the caller adds them). weight_gradients is zero_gradients(): empty.
  //   Add:         d_x_i = d_output summed over the axes x_i was broadcast along
  //   Multiply:    d_x_i = (d_output * the product of the other inputs), summed likewise
  //   Concatenate: d_x_i = the slice of d_output along `axis` where x_i was placed
  std::vector<Tensor> backward(const LayerForward& forward, const Tensor& d_output,
                               std::vector<Tensor>& weight_gradients) const;
  // The output's Keras mask for `inputs` whose masks are `masks` (one per input, nullopt for
  // an input without one; an empty list is Keras's mask=None).
  virtual std::optional<Mask> compute_mask(const std::vector<Tensor>& inputs,
                                           const std::vector<std::optional<Mask>>& masks) const;

  // The graph node: one list argument `inputs`; the output's mask from the input masks by
  // compute_mask (masks get no gradient; a tensor listed twice, as in x + x, gets two
  // gradients, which add up).
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

 protected:
  Merge(std::string class_name, LayerArgs args);
  // Whether a symbolic call records the output's mask (a logical_or of the input masks when
  // every input has one); Concatenate's is left out of the symbolic graph (a saved config then
  // records no mask for a pooling of it, and the pooling reads the run-time mask, the same).
  virtual bool records_symbolic_mask() const { return true; }
  // Keras's _merge_function, on inputs compute_output_shape accepted.
  virtual Tensor merge_function(const std::vector<Tensor>& inputs,
                                const Shape& output_shape) const = 0;
  // Add's and Multiply's merge: `op(out, x, n)` folds each further input, broadcast to
  // `output_shape`, into the first.
  static Tensor elementwise_merge(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                  void (*op)(float* out, const float* x, int64_t n));
  // The backward of merge_function for d_output (output_shape): one gradient per input.
  virtual std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs,
                                             const Shape& output_shape,
                                             const Tensor& d_output) const = 0;
  // Keras's _merge_function for inputs with Keras masks (`masks` as call() takes them):
  // merge_function but for the classes that read the masks.
  virtual Tensor masked_merge_function(const std::vector<Tensor>& inputs,
                                       const std::vector<std::optional<Mask>>& masks,
                                       const Shape& output_shape) const;
  // Its backward: merge_backward but for the classes that read the masks.
  virtual std::vector<Tensor> masked_merge_backward(const std::vector<Tensor>& inputs,
                                                    const std::vector<std::optional<Mask>>& masks,
                                                    const Shape& output_shape,
                                                    const Tensor& d_output) const;
  // The masks _merge_function reads, each stretched to `output_shape` (Keras's
  // broadcast_to(expand_dims(mask, -1), x.shape)): nullopt for an input without a mask, and
  // for an input of lower rank than the output (Merge.call's expand_dims makes a new tensor,
  // which carries no mask). ValueError for a mask whose rank is not its input's less one.
  std::vector<std::optional<Mask>> element_masks(const std::vector<Tensor>& inputs,
                                                 const std::vector<std::optional<Mask>>& masks,
                                                 const Shape& output_shape) const;
  // `input` broadcast to `output_shape` as elementwise_merge broadcasts it.
  static Tensor broadcast_input(const Tensor& input, const Shape& output_shape);
  // The backward of broadcast_input: `d` (output_shape) summed over the axes `input` was
  // broadcast along, in the input's shape.
  static Tensor sum_to_input(const Tensor& d, const Tensor& input);
  // Keras's checks on compute_mask's arguments: as many masks as inputs.
  void check_mask_count(const std::vector<Tensor>& inputs,
                        const std::vector<std::optional<Mask>>& masks) const;
};

class Add : public Merge {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Add();
  explicit Add(Args args);
  // Keras's from_config: the base keys only; unknown keys raise ValueError.
  static std::unique_ptr<Add> from_config(const Config& config);

 protected:
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;
};

class Subtract : public Merge {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Subtract();
  explicit Subtract(Args args);
  static std::unique_ptr<Subtract> from_config(const Config& config);

  // Subtract.build's check (exactly 2 inputs), then Merge's.
  Shape compute_output_shape(const std::vector<Shape>& input_shapes) const override;

 protected:
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;
};

class Average : public Merge {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Average();
  explicit Average(Args args);
  static std::unique_ptr<Average> from_config(const Config& config);

 protected:
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;
};

// Maximum's and Minimum's shared merge: elementwise max (or min) folded over the inputs, with
// Keras's _apply_merge_op_and_or_mask for masked inputs.
class ElementwiseExtremum : public Merge {
 protected:
  ElementwiseExtremum(std::string class_name, LayerArgs args, bool maximum);
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;
  Tensor masked_merge_function(const std::vector<Tensor>& inputs,
                               const std::vector<std::optional<Mask>>& masks,
                               const Shape& output_shape) const override;
  std::vector<Tensor> masked_merge_backward(const std::vector<Tensor>& inputs,
                                            const std::vector<std::optional<Mask>>& masks,
                                            const Shape& output_shape,
                                            const Tensor& d_output) const override;

 private:
  // Whether `a` wins over `b` (max: a > b, min: a < b).
  bool beats(float a, float b) const { return maximum_ ? a > b : a < b; }
  // One pairwise step on tensors and masks stretched to the output's shape: the next running
  // result from the running result `p` (its mask `running`) and the next input `x` (mask `m`).
  Tensor step(const Tensor& p, const Tensor& x, const std::optional<Mask>& running,
              const std::optional<Mask>& m) const;
  // The running mask after a step: the OR while both exist, else none.
  static std::optional<Mask> or_masks(const std::optional<Mask>& running,
                                      const std::optional<Mask>& m);

  bool maximum_;
};

class Maximum : public ElementwiseExtremum {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Maximum();
  explicit Maximum(Args args);
  static std::unique_ptr<Maximum> from_config(const Config& config);
};

class Minimum : public ElementwiseExtremum {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Minimum();
  explicit Minimum(Args args);
  static std::unique_ptr<Minimum> from_config(const Config& config);
};

class Multiply : public Merge {
 public:
  struct Args {
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Multiply();
  explicit Multiply(Args args);
  static std::unique_ptr<Multiply> from_config(const Config& config);

 protected:
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;
  Tensor masked_merge_function(const std::vector<Tensor>& inputs,
                               const std::vector<std::optional<Mask>>& masks,
                               const Shape& output_shape) const override;
  std::vector<Tensor> masked_merge_backward(const std::vector<Tensor>& inputs,
                                            const std::vector<std::optional<Mask>>& masks,
                                            const Shape& output_shape,
                                            const Tensor& d_output) const override;

 private:
  // Each input with its masked elements set to 1, broadcast to `output_shape`; and the OR of
  // the masks when every input has one.
  struct Masked {
    std::vector<Tensor> inputs;
    std::optional<Mask> output_mask;
  };
  Masked masked_inputs(const std::vector<Tensor>& inputs,
                       const std::vector<std::optional<Mask>>& masks,
                       const Shape& output_shape) const;
};

class Concatenate : public Merge {
 public:
  struct Args {
    int64_t axis = -1;      // negative counts from the end
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  Concatenate();
  explicit Concatenate(Args args);
  static std::unique_ptr<Concatenate> from_config(const Config& config);

  // Concatenate.build's checks and compute_output_shape: equal ranks, equal known dims off
  // `axis`; the output's `axis` is the sum (-1 when any is unknown).
  Shape compute_output_shape(const std::vector<Shape>& input_shapes) const override;
  std::optional<Mask> compute_mask(const std::vector<Tensor>& inputs,
                                   const std::vector<std::optional<Mask>>& masks) const override;

  int64_t axis() const { return axis_; }
  Config get_config() const override;

 protected:
  bool records_symbolic_mask() const override { return false; }
  Tensor merge_function(const std::vector<Tensor>& inputs,
                        const Shape& output_shape) const override;
  std::vector<Tensor> merge_backward(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                     const Tensor& d_output) const override;

 private:
  int64_t axis_;
};

}  // namespace kattn
