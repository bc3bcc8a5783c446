// The dense-attention op: the arithmetic of keras.layers.Attention and AdditiveAttention on
// validated, contiguous inputs, forward and backward. The reference kernels
// (kernels/reference/dense_attention.hpp) for double checks and KATTN_ISA=reference, else the
// fused kernel of the active instruction set with Keras's dense-attention rules
// (kernels/flash/sdpa_flash.hpp: FlashScoring), which keeps no (Tq, Tv) scores unless asked for
// and no (Tq, Tv, D) tanh arguments ever.
#pragma once

#include <cstdint>
#include <string>

#include "kattn/core/tensor.hpp"
#include "kattn/ops/dense_score.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn::ops {

// The sizes of a call, every axis before (T, dim) folded into the batch, and the gradient
// buffers a backward adds into: the reference kernels' own types.
using DenseAttentionDims = kernels::reference::dense::Dims;
using DenseAttentionGradients = kernels::reference::dense::DenseGradients<float>;

// query (B..., Tq, D), key (B..., Tv, D), value (B..., Tv, Dv).
DenseAttentionDims dense_attention_dims(const Shape& query, const Shape& key, const Shape& value);

struct DenseAttentionRun {
  DenseAttentionDims dims;
  DenseScore score;
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

// `layer` names the calling layer class in KATTN_VERBOSE's report.
void dense_attention(const std::string& layer, const DenseAttentionRun& run);

// The gradient of sum(output * d_output) for the call `run` describes (its output and scores
// are not written), added into `grads`, recomputing the forward with the same dropout key: the
// reference kernels under KATTN_ISA=reference, else the fused backward of the active instruction
// set (kernels/flash/sdpa_flash_backward.hpp), which keeps no (Tq, Tv) scores either.
// d_output: (B, Tq, Dv); `layer` as for dense_attention.
void dense_attention_backward(const std::string& layer, const DenseAttentionRun& run,
                              const float* d_output, const DenseAttentionGradients& grads);

}  // namespace kattn::ops
