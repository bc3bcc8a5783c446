// keras.ops functions on KerasTensors, for models built in C++: each records the node Keras
// records for the same call (`x = keras.ops.matmul(q, keras.ops.transpose(k, (0, 2, 1)))`), so
// the saved config.json is Keras's. Python's operators (x + y, 2.0 - a, ids != 0) are in
// kattn/core/keras_tensor.hpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <variant>
#include <vector>

#include "kattn/core/keras_tensor.hpp"

namespace kattn::keras_ops {

// numpy.matmul(x1, x2).
KerasTensor matmul(const KerasTensor& x1, const KerasTensor& x2);
// numpy.transpose(x, axes): the axes reversed when none are given.
KerasTensor transpose(const KerasTensor& x,
                      std::optional<std::vector<int64_t>> axes = std::nullopt);
// numpy.reshape(x, newshape): the batch axis included, one -1 allowed.
KerasTensor reshape(const KerasTensor& x, const Shape& newshape);
// numpy.squeeze(x, axis): every axis of length 1 when none is given.
KerasTensor squeeze(const KerasTensor& x, std::optional<std::vector<int64_t>> axis = std::nullopt);
// numpy.expand_dims(x, axis).
KerasTensor expand_dims(const KerasTensor& x, int64_t axis);
// numpy.mean / numpy.sum over `axis` (every axis when none is given).
KerasTensor mean(const KerasTensor& x, std::optional<std::vector<int64_t>> axis = std::nullopt,
                 bool keepdims = false);
KerasTensor sum(const KerasTensor& x, std::optional<std::vector<int64_t>> axis = std::nullopt,
                bool keepdims = false);
// keras.ops.softmax(x, axis) and keras.ops.gelu(x, approximate).
KerasTensor softmax(const KerasTensor& x, std::vector<int64_t> axis = {-1});
KerasTensor gelu(const KerasTensor& x, bool approximate = true);
// keras.ops.cast(x, dtype).
KerasTensor cast(const KerasTensor& x, DType dtype);

// One entry of an indexing key, as in Python: an index, a slice, None (a new axis of length 1)
// or `...`. `Slice{}` is `:`; `Slice{1, std::nullopt, 2}` is `1::2`.
struct Slice {
  std::optional<int64_t> start = std::nullopt;
  std::optional<int64_t> stop = std::nullopt;
  std::optional<int64_t> step = std::nullopt;
};
struct NewAxis {};
struct Ellipsis {};
using Index = std::variant<int64_t, Slice, NewAxis, Ellipsis>;

// x[key], numpy's basic indexing: get_item(x, {Slice{}, 0, Slice{}}) is `x[:, 0, :]`.
KerasTensor get_item(const KerasTensor& x, const std::vector<Index>& key);

}  // namespace kattn::keras_ops
