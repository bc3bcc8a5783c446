// keras.layers.TimeDistributed over a layer called on one tensor (Dense, Conv1D, ...), exact to
// Keras 3.16.
//
//   inputs (B, T, ...) -> output (B, T, ...'): layer(inputs[:, t]) for every step t
//
// The wrapped layer runs once on the steps folded into the batch, (B * T, ...), which is what
// Keras's loop over the steps computes. It is built for (B, ...) (the inputs without their time
// axis), as Keras builds it. The wrapper shares the layer object, as Keras's does; its weights
// are the wrapper's, named "<inner layer>/kernel", ..., and given to the layer before its next
// call whenever they change; in model.weights.h5 under layer/vars. A `mask` (B, T, ...) is checked
// against the inputs and passed, folded the same way, only to a layer whose call takes one; a Dense
// ignores it, as in Keras. The output carries no Keras mask (Keras 3.16); loaded from a file of
// Keras 3.15 or earlier it carries the call's mask, as it did then.
#pragma once

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

class TimeDistributed : public UnaryLayer {
 public:
  struct Args {
    std::shared_ptr<UnaryLayer> layer = nullptr;  // required; shared, as in Keras
    std::string name = "";                        // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError without a layer.
  explicit TimeDistributed(Args args);
  // Makes a layer from its serialized form {"module", "class_name", "config"}: a model's
  // registry of classes (Keras's deserialize_keras_object).
  using LayerDeserializer = std::function<std::shared_ptr<Operation>(const Config& serialized)>;
  // Keras's from_config: `layer` (made by `deserialize`) and the base keys. NotSupportedError
  // for a layer kattn cannot wrap.
  static std::unique_ptr<TimeDistributed> from_config(const Config& config,
                                                      const LayerDeserializer& deserialize);

  // Builds the wrapped layer for (B, ...) and takes its weights. ValueError for inputs of
  // rank < 3, as Keras's.
  void build(const Shape& input_shape) override;
  // (B, T, ...) -> (B, T) + the wrapped layer's output shape for (B, ...) without its batch.
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;
  LayerForward forward(const Tensor& inputs) const override;
  // d_inputs through the wrapped layer's backward, on the folded steps; weight_gradients are
  // the wrapped layer's, in its order.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  bool call_takes_mask() const override { return true; }
  // ValueError for a mask of rank < 2 or whose first two dimensions are not the inputs'.
  Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  LayerForward forward_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  std::optional<Mask> compute_mask(const Tensor& inputs,
                                   const std::optional<Mask>& mask) const override;
  std::optional<KerasTensor> compute_mask(const KerasTensor& inputs,
                                          const std::optional<KerasTensor>& mask) const override;

  // Keras's `layer`: the wrapped layer, as configured (its weights are this layer's).
  const UnaryLayer& wrapped_layer() const { return *layer_; }

  Config get_config() const override;
  WeightLayout weight_layout() const override;
  void follow_keras_version(const KerasVersion& version) override;

 private:
  void build_weights(const Shape& input_shape);
  // The wrapped layer, holding this layer's current weights (given to it once per change).
  std::shared_ptr<const UnaryLayer> current_layer() const;
  // (B, T, ...) -> (B, ...): ValueError for a rank < 3.
  Shape child_input_shape(const Shape& input_shape) const;
  void check_mask(const Tensor& inputs, const std::optional<Mask>& mask) const;

  std::shared_ptr<UnaryLayer> layer_;
  Shape child_shape_;         // of the first build
  bool passes_mask_ = false;  // Keras before 3.16
};

}  // namespace kattn
