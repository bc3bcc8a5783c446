// What DenseAttention's forward() keeps for its backward(): the validated call.
#pragma once

#include <optional>

#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "ops/dense_attention.hpp"

namespace kattn::detail {

// A validated call of a built layer, and what its backward reads: the contiguous inputs and
// masks `run` points into.
struct DenseAttentionCall : SavedForBackward {
  Tensor query, value, key;  // key: the value when the call passed none
  bool has_key = false;
  std::optional<Mask> query_mask, value_mask;
  Shape output_shape;          // (B, ..., Tq, Dv)
  ops::DenseAttentionRun run;  // output and scores null between calls
};

}  // namespace kattn::detail
