// What every attention layer's call returns.
#pragma once

#include <optional>

#include "kattn/core/tensor.hpp"

namespace kattn {

struct AttentionOutput {
  // (B, ..., Tq, dim_out): the attention result.
  Tensor output;
  // The attention probabilities, present only when return_attention_scores was asked for.
  std::optional<Tensor> attention_scores;
};

}  // namespace kattn
