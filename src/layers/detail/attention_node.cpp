#include "layers/detail/attention_node.hpp"

namespace kattn::detail {

void check_no_scores_gradient(ErrorSource source, const OutputGradients& d_outputs) {
  if (d_outputs.size() < 2 || !d_outputs[1]) return;
  throw NotSupportedError(error_message(source, "no backward pass through the attention scores",
                                        "a gradient for the output only",
                                        "a gradient for output 1 (the attention scores)"));
}

}  // namespace kattn::detail
