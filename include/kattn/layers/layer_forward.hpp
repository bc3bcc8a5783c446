// What a layer's training call returns besides its output: the state its backward pass reads,
// kept as a value (never in the layer, which stays const and shareable between threads).
// Backward passes write the input gradients fresh and add the weight gradients into buffers the
// caller owns and zeroes (Layer::zero_gradients).
#pragma once

#include <memory>

#include "kattn/core/tensor.hpp"

namespace kattn {

class Layer;

namespace detail {
// What one layer's forward kept; only the layer that made it (`layer`) reads it.
struct SavedForBackward {
  virtual ~SavedForBackward() = default;
  const Layer* layer = nullptr;
};
}  // namespace detail

// A training call of a layer with one output.
struct LayerForward {
  Tensor output;
  std::shared_ptr<const detail::SavedForBackward> saved;
};

}  // namespace kattn
