// The tensors that flow between the nodes of a model: float32 features, int32 token ids and
// bool masks, each with the Keras mask it carries.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kattn/core/tensor.hpp"

namespace kattn {

// The dtypes a model's tensors may have (Keras's dtype names: "float32", "int32", "bool").
enum class DType { kFloat32, kInt32, kBool };

std::string_view dtype_name(DType dtype);
// The DType of a Keras dtype name, or nullopt when kattn has none of that name.
std::optional<DType> dtype_from_name(std::string_view name);

// A tensor of any of the model dtypes.
using AnyTensor = std::variant<Tensor, Int32Tensor, Mask>;

DType dtype_of(const AnyTensor& tensor);
const Shape& shape_of(const AnyTensor& tensor);

// A tensor of a running model with its Keras mask (Keras's `_keras_mask`: bool, the tensor's
// shape without its last axis, e.g. (B, T) for (B, T, D); true = a real step).
//
// Nodes hold these by shared pointer because Keras's masks live on tensor objects: Dropout at
// inference returns the very same object, and MultiHeadAttention clears the masks of the
// objects it was called on, for every consumer that runs after it.
struct ModelValue {
  AnyTensor tensor;
  std::optional<Mask> keras_mask = std::nullopt;
};
using ValuePtr = std::shared_ptr<ModelValue>;

inline ValuePtr make_value(AnyTensor tensor, std::optional<Mask> keras_mask = std::nullopt) {
  return std::make_shared<ModelValue>(ModelValue{std::move(tensor), std::move(keras_mask)});
}

}  // namespace kattn
