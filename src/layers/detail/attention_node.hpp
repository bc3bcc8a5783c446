// What the attention layers' graph nodes share.
#pragma once

#include <vector>

#include "core/node_inputs.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/layers/attention_gradients.hpp"

namespace kattn::detail {

// The attention layers' backward passes take the output's gradient only: NotSupportedError
// naming the scores when a gradient reaches them (output 1).
void check_no_scores_gradient(ErrorSource source, const OutputGradients& d_outputs);

// backward_node() of an attention layer whose forward_node() saved an AttentionForward:
// `inputs` are the values passed as query, value and (when given) key. One entry per role: a
// value passed in several roles (self-attention) gets one for each, which add up.
template <typename L>
ValueGradients attention_backward(const L& layer, const std::vector<ValuePtr>& inputs,
                                  const BackwardPass& pass) {
  const ErrorSource source{layer.class_name(), layer.name()};
  const AttentionForward& saved = saved_call<AttentionForward>(layer, pass.forward, source);
  check_no_scores_gradient(source, pass.d_outputs);
  const Tensor* d_output = output_gradient(pass.d_outputs, 0);
  if (d_output == nullptr) return {};
  AttentionInputGradients grads = layer.backward(saved, *d_output, pass.weight_gradients);
  ValueGradients result{{inputs[0], std::move(grads.query)}, {inputs[1], std::move(grads.value)}};
  if (grads.key) result.emplace_back(inputs[2], std::move(*grads.key));
  return result;
}

}  // namespace kattn::detail
