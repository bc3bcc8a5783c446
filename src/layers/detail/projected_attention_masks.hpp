// Keras's mask rules for MultiHeadAttention and GroupedQueryAttention, in one place:
// _compute_attention_mask (query, value, key and causal masks ANDed with attention_mask) and
// the expansion _masked_softmax / _compute_attention apply before broadcasting the result
// against the attention scores.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// The layout of the attention scores, as Keras's _build_attention_equation writes it:
//   (batch axes..., N, query attention axes..., key attention axes...)
// where the batch axes are axis 0 and every non-attention axis of the inputs but the last.
// Attention runs on the flattened frame (batch, N, query_len, key_len).
struct ScoresLayout {
  Shape shape;
  int64_t num_batch_axes = 0;      // P: the axes before the head axis
  int64_t num_attention_axes = 0;  // L
  int64_t batch = 1;               // product of the batch axes
  int64_t num_heads = 1;           // N
  int64_t query_len = 1;           // product of the query's attention axes
  int64_t key_len = 1;             // product of the key's attention axes
};

// For inputs of rank r, `attention_axes` normalised to [1, r - 2], distinct.
ScoresLayout scores_layout(const Shape& query_shape, const Shape& key_shape, int64_t num_heads,
                           const std::vector<int64_t>& attention_axes);

struct AttentionMasks {
  const Mask* query_mask = nullptr;      // query.shape[:-1]
  const Mask* value_mask = nullptr;      // value.shape[:-1]
  const Mask* key_mask = nullptr;        // key.shape[:-1]
  const Mask* attention_mask = nullptr;  // broadcastable, see combine_attention_masks
  // Keras's causal mask of shape (1, query.shape[1], value.shape[1]), j <= i, as a mask.
  bool causal = false;
  // The sliding-window band over the same axes, |i - j| < sliding_window, as a mask (0: none).
  int64_t sliding_window = 0;
};

// Checks each mask's shape (ValueError naming the mask), ANDs them all as Keras does and returns
// the result on the attention frame (batch, N, query_len, key_len) with every axis either of
// full length or 1 (broadcast); nullopt when no mask applies.
//
// Keras expands query masks to (..., T, 1) and value/key masks to (..., 1, S), ANDs them with
// the attention mask, then inserts length-1 axes at position -(2L + 1) (the head axis) until the
// mask has the rank of the scores. Here every mask is expanded before the AND, which gives the
// same result whenever Keras's order broadcasts, and also combines a per-head attention mask
// (which has the scores' rank) with query/value/key masks, where Keras's order would broadcast
// the batch axis against the head axis.
std::optional<Mask> combine_attention_masks(ErrorSource source, const ScoresLayout& layout,
                                            const Shape& query_shape, const Shape& value_shape,
                                            const Shape& key_shape, const AttentionMasks& masks);

}  // namespace kattn::detail
