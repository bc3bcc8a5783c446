// The base of the layers called on one float32 tensor, `call(inputs)`: Dense, EinsumDense,
// Conv1D, LayerNormalization, Activation, GlobalMaxPooling1D. A subclass writes its typed call,
// forward and backward; UnaryLayer makes them the layer's graph node.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kattn/core/layer.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

class UnaryLayer : public Layer {
 public:
  // Keras's supports_masking: whether the input's Keras mask passes to the output.
  enum class MaskRule { kPassThrough, kDrop };
  // Whether Keras writes a build_config for the class (the class defines build()).
  enum class BuildRecord { kRecorded, kNotRecorded };

  // Whether Keras serialises a build_config for the layer once built (false for the classes
  // built in __init__).
  bool records_build_config() const { return build_record_ == BuildRecord::kRecorded; }

  // Creates the weights for inputs of this shape (Keras's build); a no-op once built.
  virtual void build(const Shape& /*input_shape*/) {}
  // Keras's compute_output_shape; the input's shape by default.
  virtual Shape compute_output_shape(const Shape& input_shape) const { return input_shape; }

  virtual Tensor call(const Tensor& inputs) const = 0;
  // A training call: call() that also keeps what backward() needs.
  virtual LayerForward forward(const Tensor& inputs) const = 0;
  // Backpropagates d_output through the forward() call that gave `forward`: returns the input's
  // gradient and adds each weight's gradient into weight_gradients (zero_gradients() layout).
  virtual Tensor backward(const LayerForward& forward, const Tensor& d_output,
                          std::vector<Tensor>& weight_gradients) const = 0;

  // Keras's compute_mask: the Keras mask of the output for `inputs` called with `mask` (the
  // call's mask argument, else the inputs' Keras mask), passed on by MaskRule::kPassThrough,
  // dropped by kDrop; the symbolic one is what a graph records.
  virtual std::optional<Mask> compute_mask(const Tensor& inputs,
                                           const std::optional<Mask>& mask) const;
  virtual std::optional<KerasTensor> compute_mask(const KerasTensor& inputs,
                                                  const std::optional<KerasTensor>& mask) const;

  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

  // Whether the layer's inputs are ids (an embedding): a node's int32 inputs are then cast to
  // float32 (exact below 2^24) and get no gradient. Only float32 inputs otherwise.
  virtual bool takes_int_ids() const { return false; }

  // For the layers whose Keras call takes a mask, call(inputs, mask=None): a node passes its
  // `mask` keyword when it is a tensor, else the input's Keras mask (the mask gets no gradient).
  // Other layers are called on their inputs alone.
  virtual bool call_takes_mask() const { return false; }
  virtual Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& /*mask*/) const {
    return call(inputs);
  }
  virtual LayerForward forward_masked(const Tensor& inputs,
                                      const std::optional<Mask>& /*mask*/) const {
    return forward(inputs);
  }

 protected:
  UnaryLayer(std::string class_name, LayerArgs args, MaskRule mask_rule, BuildRecord build_record);

  // The mask a node's call sees: its `mask` argument (call_takes_mask() only) when that is a
  // tensor, else the inputs' Keras mask.
  std::optional<Mask> call_mask(const ValueArguments& arguments) const;
  std::optional<KerasTensor> call_mask(const SymbolicArguments& arguments) const;

 private:
  MaskRule mask_rule_;
  BuildRecord build_record_;
};

}  // namespace kattn
