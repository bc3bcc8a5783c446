// What the attention layers' graph nodes share.
#pragma once

#include <optional>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// The attention layers' backward passes take the output's gradient only: NotSupportedError
// naming the scores when a gradient reaches them (output 1).
void check_no_scores_gradient(ErrorSource source,
                              const std::vector<std::optional<Tensor>>& d_outputs);

}  // namespace kattn::detail
