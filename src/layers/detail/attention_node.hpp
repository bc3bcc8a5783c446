// What the attention layers' graph nodes share.
#pragma once

#include "kattn/core/error.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

// The attention layers' backward passes take the output's gradient only: NotSupportedError
// naming the scores when a gradient reaches them (output 1).
void check_no_scores_gradient(ErrorSource source, const OutputGradients& d_outputs);

}  // namespace kattn::detail
