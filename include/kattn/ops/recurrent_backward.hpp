// The recurrent layers' training call and its backward (backpropagation through time), in
// float32 or double: a plain implementation of the loop of kattn/ops/recurrent.hpp (same cells,
// masks, go_backwards and unroll rules; its float32 outputs are those of ops::recurrent) that
// keeps the states each step started from, and a backward that recomputes every step's gates
// from them.
//
// Backward, processing steps from last to first, with dh, dc the gradients of the states a step
// left (the final states' gradients at the start) and d_out the gradient of the step's output:
//   a kept row:   the cell's backward for dh' = dh + d_out, dc' = dc gives the gradients of
//                 the gate pre-activations dz (B, G * units) and of the states before the step
//   a masked row: the states pass through (dh, dc unchanged); d_out goes to the previous h,
//                 to nothing (zero_output_for_mask), or unrolled to the previous step's output
// The input products' gradients dz of all steps then give d_sequences = dz W^T, d_kernel =
// sequences^T dz, d_bias = sum dz as one matrix product each; d_recurrent_kernel = sum over
// steps of h^T dz (GRU: of its recurrent blocks).
//
// Dropout (a training call's, as Keras's cells apply it): every step multiplies its inputs x_t
// by an input mask and the h its recurrent products read by a recurrent mask, the same masks at
// every step; a gate block g reads mask g (Keras's implementation 1, with recurrent_dropout) or
// all blocks read one mask. h itself (GRU's z * h, LSTM's carry) is not dropped.
#pragma once

#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/ops/recurrent.hpp"

namespace kattn::ops {

template <typename Real>
struct RecurrentWeightsOf {
  const BasicTensor<Real>& kernel;            // (F, G * units)
  const BasicTensor<Real>& recurrent_kernel;  // (units, G * units)
  const BasicTensor<Real>* bias;              // as RecurrentWeights's; null without a bias
};

// Dropout masks, each holding 0 or 1 / (1 - rate): `inputs` (B, F) and `recurrent` (B, units),
// each empty (no dropout there), one mask for every gate block, or one per gate block.
template <typename Real>
struct RecurrentDropoutMasks {
  std::vector<BasicTensor<Real>> inputs;
  std::vector<BasicTensor<Real>> recurrent;
};

// What a training call returns: ops::recurrent's result and what the backward reads.
template <typename Real>
struct RecurrentTape {
  BasicTensor<Real> output;                    // (B, T, units) or (B, units), as RecurrentResult
  std::vector<BasicTensor<Real>> states;       // the final states
  BasicTensor<Real> inputs;                    // (B, T, G * units): x_t W (+ the input bias)
  std::vector<BasicTensor<Real>> step_states;  // per state: (T, B, units), before step p
};

template <typename Real>
struct RecurrentGradients {
  BasicTensor<Real> sequences;                   // (B, T, F)
  BasicTensor<Real> kernel;                      // (F, G * units)
  BasicTensor<Real> recurrent_kernel;            // (units, G * units)
  BasicTensor<Real> bias;                        // the bias's shape; rank 0 without a bias
  std::vector<BasicTensor<Real>> initial_state;  // one per state, (B, units)
};

// The training call: as ops::recurrent, keeping the tape.
template <typename Real>
RecurrentTape<Real> recurrent_forward(const BasicTensor<Real>& sequences,
                                      const RecurrentWeightsOf<Real>& weights,
                                      const RecurrentSpec& spec, const Mask* mask,
                                      const std::vector<BasicTensor<Real>>& initial_state,
                                      const RecurrentDropoutMasks<Real>& dropout = {});

// d_output: the output's shape; d_states: empty (no gradient) or one per state, each (B, units)
// or of rank 0 (a default tensor) for none.
template <typename Real>
RecurrentGradients<Real> recurrent_backward(const BasicTensor<Real>& sequences,
                                            const RecurrentWeightsOf<Real>& weights,
                                            const RecurrentSpec& spec, const Mask* mask,
                                            const RecurrentTape<Real>& tape,
                                            const BasicTensor<Real>& d_output,
                                            const std::vector<BasicTensor<Real>>& d_states,
                                            const RecurrentDropoutMasks<Real>& dropout = {});

}  // namespace kattn::ops
