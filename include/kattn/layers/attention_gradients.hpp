// What the attention layers' training calls return and their backward passes take (see
// layer_forward.hpp for the conventions).
#pragma once

#include <memory>
#include <optional>

#include "kattn/core/tensor.hpp"
#include "kattn/layers/attention_output.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

// A training-mode call: its result, and the state its backward pass reads.
struct AttentionForward {
  AttentionOutput result;
  std::shared_ptr<const detail::SavedForBackward> saved;
};

// The gradients of the loss with respect to the call's inputs, one per call role: the value
// covers the key role too when no key was passed (Keras then uses the value as key). A tensor
// passed in several roles (self-attention) has the sum of its roles' gradients.
struct AttentionInputGradients {
  Tensor query;
  Tensor value;
  std::optional<Tensor> key;  // only when a key was passed
};

}  // namespace kattn
