// The recurrent layers' loop: keras.layers.RNN over an LSTMCell, GRUCell or SimpleRNNCell, as
// Keras's numpy backend runs it (keras/src/backend/numpy/rnn.py), in float32.
//
// Cell steps (x_t (B, F), W = kernel, U = recurrent_kernel, b = bias or 0; act = activation,
// ract = recurrent_activation), each gate block `units` wide along the kernels' last axis:
//   LSTM (i, f, c, o):  z = (x_t W + h U) + b; i = ract(z_i), f = ract(z_f), o = ract(z_o),
//                       c' = f * c + i * act(z_c), h' = o * act(c'); states [h, c]
//   GRU (z, r, h), reset_after (b (2, 3u) = [input; recurrent]):
//                       x = x_t W + b_0, r_h = h U + b_1; z = ract(x_z + r_z),
//                       r = ract(x_r + r_r), n = act(x_h + r * r_h)
//   GRU, reset before (b (3u,)): x = x_t W + b; z = ract(x_z + h U_z), r = ract(x_r + h U_r),
//                       n = act(x_h + (r * h) U_h)
//                       both: h' = z * h + (1 - z) * n; states [h]
//   SimpleRNN:          h' = act((x_t W + b) + h U); states [h]
// The output of a step is h'. The input products of all steps are one matrix product.
//
// The loop: states start at `initial_state` (zeros when empty); steps run t = 0 .. T-1, or
// T-1 .. 0 with go_backwards. Where mask[b, t] is false the step leaves row b's states as they
// were and outputs the previous h (zeros with zero_output_for_mask); unrolled (Keras's
// unroll=True loop) it outputs the previous step's output instead (zeros before the first step)
// and zero_output_for_mask is not read. Returned sequences are in processing order (with
// go_backwards, index i holds the output after time step T-1-i); the last output is the last
// processed step's.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn::ops {

enum class RecurrentCell { kSimpleRNN, kLSTM, kGRU };

// Gate blocks along the kernels' last axis (1, 4, 3) and state tensors (1, 2, 1) of a cell.
int64_t recurrent_gates(RecurrentCell cell);
int64_t recurrent_states(RecurrentCell cell);

struct RecurrentSpec {
  RecurrentCell cell = RecurrentCell::kLSTM;
  ActivationFunction activation;            // act
  ActivationFunction recurrent_activation;  // ract (LSTM, GRU)
  bool reset_after = true;                  // GRU
  bool go_backwards = false;
  bool return_sequences = false;
  bool zero_output_for_mask = false;
  bool unroll = false;
};

struct RecurrentWeights {
  const Tensor& kernel;            // (F, G * units)
  const Tensor& recurrent_kernel;  // (units, G * units)
  const Tensor* bias;              // (G * units,), or (2, 3 * units) for GRU reset_after; null
};

struct RecurrentResult {
  Tensor output;               // (B, T, units) with return_sequences, else (B, units)
  std::vector<Tensor> states;  // the final states, each (B, units): [h, c] or [h]
};

// The weights packed for the packed loop's kernels, or null when the active instruction set has
// none. Made once per set of weights (Layer::derived_from_weights).
class PackedRecurrentWeights;
std::shared_ptr<const PackedRecurrentWeights> pack_recurrent_weights(
    const RecurrentWeights& weights);

// sequences (B, T, F); mask (B, T) or null; initial_state empty or recurrent_states(cell)
// tensors (B, units). Shapes are checked by the caller. With `packed` (pack_recurrent_weights
// of `weights`), Keras's default activations (LSTM and GRU with reset_after: tanh and sigmoid;
// SimpleRNN: tanh) and the AVX2 or AVX-512 kernels active, the loop runs on the packed kernels
// with the batch split over kattn::num_threads() threads; otherwise the plain loop (OpenBLAS
// products, scalar gates: the training call of kattn/ops/recurrent_backward.hpp), its
// specification.
RecurrentResult recurrent(const Tensor& sequences, const RecurrentWeights& weights,
                          const RecurrentSpec& spec, const Mask* mask,
                          const std::vector<Tensor>& initial_state,
                          const PackedRecurrentWeights* packed = nullptr);

}  // namespace kattn::ops
