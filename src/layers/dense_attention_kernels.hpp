// The arithmetic of DenseAttention::call on validated, contiguous inputs: the reference kernels
// (kernels/reference/dense_attention.hpp) for double checks and KATTN_ISA=reference, else the
// fused kernel of the active instruction set with Keras's dense-attention rules
// (kernels/flash/sdpa_flash.hpp: FlashScoring), which keeps no (Tq, Tv) scores unless asked for
// and no (Tq, Tv, D) tanh arguments ever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kattn/layers/attention.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn::detail {

struct DenseAttentionRun {
  kernels::reference::dense::Dims dims;
  DenseAttention::ScoreFunction score;
  const float* query = nullptr;      // (B, Tq, D)
  const float* key = nullptr;        // (B, Tv, D)
  const float* value = nullptr;      // (B, Tv, Dv)
  const bool* query_mask = nullptr;  // (B, Tq) or null
  const bool* value_mask = nullptr;  // (B, Tv) or null
  bool use_causal_mask = false;
  double dropout_rate = 0.0;  // 0 at inference
  uint64_t dropout_key = 0;
  float* output = nullptr;  // (B, Tq, Dv)
  float* scores = nullptr;  // (B, Tq, Tv), after dropout; null when not asked for
};

// A validated call of a built layer, and what its backward reads: the contiguous inputs and
// masks `run` points into.
struct DenseAttentionCall : SavedForBackward {
  Tensor query, value, key;  // key: the value when the call passed none
  bool has_key = false;
  std::optional<Mask> query_mask, value_mask;
  Shape output_shape;     // (B, ..., Tq, Dv)
  DenseAttentionRun run;  // output and scores null between calls
};

// `layer` names the calling layer class in KATTN_VERBOSE's report.
void run_dense_attention(const std::string& layer, const DenseAttentionRun& run);

// The gradient of sum(output * d_output) for the call `run` describes (its output and scores
// are not written), added into `grads`, recomputing the forward with the same dropout key: the
// reference kernels under KATTN_ISA=reference, else the fused backward of the active instruction
// set (kernels/flash/sdpa_flash_backward.hpp), which keeps no (Tq, Tv) scores either.
// d_output: (B, Tq, Dv); `layer` as for run_dense_attention.
void run_dense_attention_backward(const std::string& layer, const DenseAttentionRun& run,
                                  const float* d_output,
                                  const kernels::reference::dense::DenseGradients<float>& grads);

}  // namespace kattn::detail
