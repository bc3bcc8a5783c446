// keras.layers.Bidirectional over a recurrent layer (LSTM, GRU, SimpleRNN), exact to Keras 3.16.
//
//   sequences (B, T, F) -> merge(forward(sequences), flip(backward(sequences)))
//
// The forward layer is a copy of `layer` named "forward_<name>" (with one "forward_" prefix);
// the backward layer is `backward_layer`, or a copy of the forward one with go_backwards
// flipped, named "backward_<forward layer's name>". Keras forces zero_output_for_mask =
// return_sequences on both. Both run on the same sequences and mask; with return_sequences the
// backward sequence is flipped back to time order. merge_mode: "concat" (forward first, on the
// last axis), "sum", "mul", "ave" ((f + b) / 2) or none (both outputs, forward first). With
// return_state the forward layer's states follow, then the backward layer's; an initial_state
// is split in halves the same way.
//
// Weights: the forward layer's, then the backward layer's, named "<inner layer>/<cell>/kernel"
// ...; in model.weights.h5 under forward_layer/cell/vars and backward_layer/cell/vars. Outputs
// carry no Keras mask (Keras 3.16); the node reads masks as the recurrent layers do, and loaded
// from a file of Keras 3.15 or earlier passes them on as they do (returned sequences: the
// merged one, or both).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/rnn.hpp"

namespace kattn {

class Bidirectional : public Layer {
 public:
  struct Args {
    std::shared_ptr<const RNN> layer = nullptr;  // required
    std::optional<std::string> merge_mode = "concat";
    std::shared_ptr<const RNN> backward_layer = nullptr;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError as Keras's: no layer, an unknown merge_mode, layers that go the same way or
  // differ in return_sequences, return_state or stateful.
  explicit Bidirectional(Args args);
  // Keras's from_config: merge_mode, layer and backward_layer (serialized layers) and the base
  // keys; unknown keys raise ValueError.
  static std::unique_ptr<Bidirectional> from_config(const Config& config);

  // Creates both layers' weights for sequences (B, T, F). A no-op once built.
  void build(const Shape& sequences_shape);
  // The merged output's shape (two with merge_mode none), then the states' shapes.
  std::vector<Shape> compute_output_shape(const Shape& sequences_shape) const;
  // The outputs as Keras returns them: [output] or [forward, backward] (merge_mode none), then
  // with return_state the forward and the backward states. Const and safe from many threads.
  std::vector<Tensor> call(const Tensor& sequences, const RecurrentCallArgs& args = {}) const;

  // The inner layers, as configured (their weights are this layer's).
  const RNN& forward_layer() const { return *forward_; }
  const RNN& backward_layer() const { return *backward_; }
  const std::optional<std::string>& merge_mode() const { return merge_mode_; }

  Config get_config() const override;

  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  // Training: both directions' backpropagation through time, through the merge.
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;
  WeightLayout weight_layout() const override;
  void follow_keras_version(const KerasVersion& version) override;
  bool masks_first_argument() const override { return masks_first_argument_; }

 private:
  void build_weights(const Shape& sequences_shape);
  // The weights of the forward (0) or backward (1) layer, in its weight_specs() order.
  std::vector<const Tensor*> inner_weights(size_t which) const;
  // How many outputs carry the call's mask on: the returned sequences before Keras 3.16.
  size_t passed_masks() const;
  // Outputs of the merge of y (forward) and y_rev (backward, in time order).
  std::vector<Tensor> merge(const Tensor& y, const Tensor& y_rev) const;
  // The two calls' arguments: the mask for both, initial_state split in halves.
  std::pair<RecurrentCallArgs, RecurrentCallArgs> split_args(const RecurrentCallArgs& args) const;
  // The outputs of a call from both directions' results (flipped, merged, states appended).
  std::vector<Tensor> outputs_of(RecurrentOutput y, RecurrentOutput y_rev) const;
  // Node outputs, each with the mask Keras passes on.
  std::vector<ValuePtr> node_outputs(std::vector<Tensor> results,
                                     const ValueArguments& arguments) const;

  std::unique_ptr<RNN> forward_;
  std::unique_ptr<RNN> backward_;
  std::optional<std::string> merge_mode_;
  size_t forward_weight_count_ = 0;
  Config input_shape_ = nullptr;       // of the first build, for the inner layers' build_config
  bool passes_mask_ = false;           // Keras before 3.16
  bool masks_first_argument_ = false;  // tf.keras 2
};

}  // namespace kattn
