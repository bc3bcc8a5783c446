// Call arguments of the attention layers that project their inputs into heads:
// MultiHeadAttention and GroupedQueryAttention (Keras's `call(query, value, key=None,
// query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
// return_attention_scores=False, training=None, use_causal_mask=False)`).
//
// Keras takes query, value and key masks from the tensors' own Keras masks (`_keras_mask`, set by
// Masking or Embedding(mask_zero=True)); kattn takes them as explicit arguments:
//   - query_mask plays the query's Keras mask. (MultiHeadAttention in Keras ignores an explicit
//     `query_mask=` argument and reads the query's Keras mask instead; here there is one way.)
//   - value_mask and key_mask play the value's and key's Keras masks, or Keras's explicit
//     `value_mask=` / `key_mask=` arguments.
//   - Self-attention on a masked sequence: in Keras the value *is* the query tensor, so its
//     mask is applied both as query mask and as value mask. Pass it as both here.
// All masks are ANDed; true = keep / may be attended.
#pragma once

#include <optional>

#include "kattn/core/tensor.hpp"

namespace kattn {

struct ProjectedAttentionCallArgs {
  // (B, ..., S, Dk); the value is used as key when absent.
  std::optional<Tensor> key = std::nullopt;
  // query.shape[:-1], e.g. (B, T): false query rows attend to nothing (a fully masked row).
  std::optional<Mask> query_mask = std::nullopt;
  // value.shape[:-1], e.g. (B, S): false keys are attended by no query.
  std::optional<Mask> value_mask = std::nullopt;
  // key.shape[:-1], e.g. (B, S): as value_mask.
  std::optional<Mask> key_mask = std::nullopt;
  // Which query may attend to which key: (T, S), (B, T, S) or per head (B, N, T, S) for rank-3
  // inputs; any shape that broadcasts as Keras broadcasts it (leading axes of length 1 may be
  // left out; the head axis is inserted before the attention axes when absent).
  std::optional<Mask> attention_mask = std::nullopt;
  // Key j is attended from query i only when j <= i (top-left aligned, also when T != S).
  bool use_causal_mask = false;
  // Also return the attention probabilities: (B, N, T, S) for rank-3 inputs.
  bool return_attention_scores = false;
  // Dropout on the attention probabilities only when true (and the layer's dropout > 0).
  bool training = false;
};

// Call arguments of an incremental-decoding step (ProjectedAttention::call_cached).
struct CachedCallArgs {
  // (B, T', Dk); the value is used as key when absent.
  std::optional<Tensor> key = std::nullopt;
  // Query row t, at position length + t, attends only positions <= its own.
  bool use_causal_mask = false;
};

}  // namespace kattn
