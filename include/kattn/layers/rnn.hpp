// keras.layers.RNN as LSTM, GRU and SimpleRNN are made of it (each over its own cell), exact to
// Keras 3.16. The arithmetic and the loop are kattn/ops/recurrent.hpp's.
//
//   sequences (B, T, F) -> output (B, T, units) with return_sequences, else (B, units);
//   with return_state, the final states follow: [h, c] (LSTM) or [h], each (B, units)
//
// Weights, in Keras's order and under the cell's name ("lstm_cell/kernel", ...): kernel
// (F, G * units), recurrent_kernel (units, G * units) and, with use_bias, bias (G * units,)
// (GRU with reset_after: (2, 3 * units), the input bias then the recurrent one); G = 4 (LSTM:
// gates i, f, c, o), 3 (GRU: z, r, h), 1 (SimpleRNN). In model.weights.h5 they are the
// datasets cell/vars/0, 1, 2 of the layer's group.
//
// Masks (Keras 3.16): a call uses the mask it is given (B, T) (a masked step keeps the states and
// repeats the previous output, or outputs zeros with zero_output_for_mask), but no output carries
// a Keras mask. In a model the layer reads its node's `mask` argument, or else, only when it is
// called without initial_state, the sequences' Keras mask. A layer loaded from a file Keras
// 3.15 or earlier saved passes a mask on as those releases do: a returned sequence carries the
// node's `mask`, or else the sequences' mask (initial_state or not); last outputs and states
// carry none.
//
// Training: forward_node / backward_node run backpropagation through time (masks, go_backwards,
// unroll and initial states included). A training call with dropout or recurrent_dropout in
// (0, 1) drops as Keras's cells do: one mask over the inputs' features (B, F) and one over h
// (B, units) for the whole call, one per gate block when recurrent_dropout is set (Keras's
// implementation 1), drawn from the layer's seed; inference ignores them, as Keras does. Not
// implemented, refused with NotSupportedError naming the argument: stateful=True.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/ops/activations.hpp"
#include "kattn/ops/recurrent.hpp"
#include "kattn/ops/recurrent_backward.hpp"

namespace kattn {

// keras.layers.RNN's own constructor arguments.
struct RNNOptions {
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;  // steps run T-1 .. 0; returned sequences stay in that order
  bool stateful = false;      // not implemented: true is refused
  bool unroll = false;        // Keras's unrolled loop, with its own masked outputs (see the op)
  bool zero_output_for_mask = false;
};

// A recurrent layer's call(sequences, initial_state=None, mask=None, training=False).
struct RecurrentCallArgs {
  std::optional<Mask> mask = std::nullopt;  // (B, T): false steps are skipped
  std::vector<Tensor> initial_state = {};   // [h, c] (LSTM) or [h], each (B, units); empty: zeros
  bool training = false;
};

// A call's results: Keras returns `output`, or `[output, *states]` with return_state.
struct RecurrentOutput {
  Tensor output;
  std::vector<Tensor> states;  // the final states (given whether or not return_state is set)
};

// A training call: its results and what its backward reads (opaque to everyone else).
struct RecurrentForward {
  RecurrentOutput result;
  std::shared_ptr<const void> saved;
};

// The gradients a recurrent call's backward gives its inputs.
struct RecurrentInputGradients {
  Tensor sequences;                   // (B, T, F)
  std::vector<Tensor> initial_state;  // one per initial state the call was given
};

class RNN : public Layer {
 public:
  // The cell's constructor arguments as the layer keeps them (LSTMCell, GRUCell,
  // SimpleRNNCell): the subclasses' Args, less the RNN's own.
  struct CellArgs {
    ops::RecurrentCell kind = ops::RecurrentCell::kLSTM;
    int64_t units = 0;  // > 0
    ActivationFunction activation;
    ActivationFunction recurrent_activation;  // LSTM, GRU
    bool use_bias = true;
    WeightArgs kernel;
    WeightArgs recurrent;
    WeightArgs bias;
    bool unit_forget_bias = true;  // LSTM: the forget gate's bias starts at 1
    bool reset_after = true;       // GRU
    double dropout = 0.0;          // in [0, 1]
    double recurrent_dropout = 0.0;
    std::optional<int64_t> seed = std::nullopt;
    Config activity_regularizer = nullptr;
  };

  // One weight of the layer: its name within the layer ("lstm_cell/kernel"), shape, and
  // initializer, regularizer and constraint.
  struct WeightSpec {
    std::string name;
    Shape shape;
    WeightArgs args;
  };

  // Creates the weights for sequences (B, T, F); only F must be known. A no-op once built.
  void build(const Shape& sequences_shape);
  // The weights build() creates for sequences (B, T, F), in Keras's order; ValueError unless
  // sequences_shape is of rank 3 with F known.
  std::vector<WeightSpec> weight_specs(const Shape& sequences_shape) const;
  // What the cell sets after the initializers ran: with LSTM's unit_forget_bias, ones in the
  // forget gate's block of `bias` (the third weight).
  void finish_initial_bias(Tensor& bias) const;
  // The output's shape, then (with return_state) each state's.
  std::vector<Shape> compute_output_shape(const Shape& sequences_shape) const;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  RecurrentOutput call(const Tensor& sequences, const RecurrentCallArgs& args = {}) const;
  // call() with weights kept elsewhere, shaped as weight_specs() says (the wrappers that own
  // their inner layers' weights: Bidirectional), and `packed` made from them by
  // pack_weights() when not null (the fast loop's weights, kept by the owner of the weights).
  RecurrentOutput call_with(const std::vector<const Tensor*>& weights, const Tensor& sequences,
                            const RecurrentCallArgs& args,
                            const ops::PackedRecurrentWeights* packed = nullptr) const;
  // The weights packed for the fast loop (ops::pack_recurrent_weights), or null where it does
  // not run.
  std::shared_ptr<const ops::PackedRecurrentWeights> pack_weights(
      const std::vector<const Tensor*>& weights) const;
  // The training call (ops/recurrent_backward.hpp) with weights kept as call_with's.
  RecurrentForward forward_with(const std::vector<const Tensor*>& weights, const Tensor& sequences,
                                const RecurrentCallArgs& args) const;
  // Backpropagation through time of the forward_with() call that gave `forward`, for the
  // output's gradient and each final state's (null where none reaches it): the inputs'
  // gradients, and the weights' added into weight_gradients (weight_specs() order and shapes).
  RecurrentInputGradients backward_with(const std::vector<const Tensor*>& weights,
                                        const RecurrentForward& forward, const Tensor* d_output,
                                        const std::vector<const Tensor*>& d_states,
                                        std::span<Tensor> weight_gradients) const;

  int64_t units() const { return cell_.units; }
  const CellArgs& cell() const { return cell_; }
  const RNNOptions& options() const { return options_; }
  Config activity_regularizer() const override { return cell_.activity_regularizer; }

  Config get_config() const override;

  // The graph node: call(sequences, initial_state=None, mask=None, training=False).
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  // Gradients for the sequences and the initial states.
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;
  // The weights under cell/vars in model.weights.h5.
  WeightLayout weight_layout() const override;
  // Before 3.16 a returned sequence carries the call's mask on (see above).
  void follow_keras_version(const KerasVersion& version) override;
  bool masks_first_argument() const override { return masks_first_argument_; }
  bool passes_mask() const { return passes_mask_; }

 protected:
  // `class_name` "LSTM", "GRU" or "SimpleRNN"; validates as Keras's constructors do.
  RNN(std::string class_name, LayerArgs args, CellArgs cell, RNNOptions options);

 private:
  void build_weights(const Shape& sequences_shape);
  // The cell's name, the prefix of the weights' names: "lstm_cell", "gru_cell", ...
  std::string cell_name() const;
  void check_call(const Tensor& kernel, const Tensor& sequences,
                  const RecurrentCallArgs& args) const;
  ops::RecurrentSpec spec() const;
  // A training call's dropout masks for sequences (B, T, F); none when the rates are 0 or 1.
  ops::RecurrentDropoutMasks<float> dropout_masks(const Tensor& sequences) const;
  // This layer's weights, for call_with and its kin.
  std::vector<const Tensor*> own_weights() const;

  CellArgs cell_;
  RNNOptions options_;
  SeedGenerator seed_generator_;
  bool passes_mask_ = false;
  bool masks_first_argument_ = false;  // tf.keras 2
};

// A recurrent layer from its serialized form {"class_name": "LSTM" | "GRU" | "SimpleRNN",
// "config": {...}} (the wrappers' `layer` and `backward_layer`); NotSupportedError naming any
// other class, ValueError when the object has no class_name or config.
std::unique_ptr<RNN> recurrent_layer_from_config(const Config& serialized, ErrorSource source);

}  // namespace kattn
