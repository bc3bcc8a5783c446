// keras.ops functions on KerasTensors: each records its op node.
#include "kattn/ops/keras_ops.hpp"

#include <utility>

#include "ops/matmul_operation.hpp"
#include "ops/nn_operations.hpp"
#include "ops/numpy_operations.hpp"
#include "ops/reduction_operations.hpp"
#include "ops/shape_operations.hpp"

namespace kattn::keras_ops {

KerasTensor matmul(const KerasTensor& x1, const KerasTensor& x2) {
  return detail::symbolic_matmul(x1, x2);
}

KerasTensor transpose(const KerasTensor& x, std::optional<std::vector<int64_t>> axes) {
  return detail::symbolic_transpose(x, std::move(axes));
}

KerasTensor reshape(const KerasTensor& x, const Shape& newshape) {
  return detail::symbolic_reshape(x, newshape);
}

KerasTensor squeeze(const KerasTensor& x, std::optional<std::vector<int64_t>> axis) {
  return detail::symbolic_squeeze(x, std::move(axis));
}

KerasTensor expand_dims(const KerasTensor& x, int64_t axis) {
  return detail::symbolic_expand_dims(x, axis);
}

KerasTensor mean(const KerasTensor& x, std::optional<std::vector<int64_t>> axis, bool keepdims) {
  return detail::symbolic_mean(x, std::move(axis), keepdims);
}

KerasTensor sum(const KerasTensor& x, std::optional<std::vector<int64_t>> axis, bool keepdims) {
  return detail::symbolic_sum(x, std::move(axis), keepdims);
}

KerasTensor softmax(const KerasTensor& x, std::vector<int64_t> axis) {
  return detail::symbolic_softmax(x, std::move(axis));
}

KerasTensor gelu(const KerasTensor& x, bool approximate) {
  return detail::symbolic_gelu(x, approximate);
}

KerasTensor cast(const KerasTensor& x, DType dtype) { return detail::symbolic_cast(x, dtype); }

KerasTensor get_item(const KerasTensor& x, const std::vector<Index>& key) {
  return detail::symbolic_get_item(x, key);
}

}  // namespace kattn::keras_ops
