// How keras.layers.Attention and AdditiveAttention score a query row against a key row (the
// formulas of kattn/layers/attention.hpp), with the layer's weights in them: what the
// dense-attention op runs.
#pragma once

#include "kattn/core/tensor.hpp"

namespace kattn::ops {

struct DenseScore {
  enum class Kind { kDot, kConcat, kAdditive };
  Kind kind = Kind::kDot;
  const Tensor* scale = nullptr;                // () or (D,), null without use_scale
  const Tensor* concat_score_weight = nullptr;  // (), Kind::kConcat only
};

}  // namespace kattn::ops
