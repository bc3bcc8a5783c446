// keras.Input: the symbolic tensor a functional model starts from, made by an InputLayer.
#pragma once

#include <optional>
#include <string>

#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/core/value.hpp"

namespace kattn {

struct InputArgs {
  // The shape without the batch axis, -1 for None: {-1} for token ids of any length,
  // {-1, 8} for sequences of 8 features.
  Shape shape = {};
  // The whole shape with the batch axis, instead of `shape` (Keras's batch_shape).
  std::optional<Shape> batch_shape = std::nullopt;
  DType dtype = DType::kFloat32;
  std::string name = "";  // empty: Keras's auto name ("input_layer", "input_layer_1", ...)
};

// Keras's keras.Input(shape=..., dtype=..., name=...).
KerasTensor Input(const InputArgs& args);

}  // namespace kattn
