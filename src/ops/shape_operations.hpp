// The keras.ops functions that move elements without arithmetic, as Keras records them in
// model graphs: numpy.transpose (Transpose, `axes`), numpy.reshape (Reshape, `newshape`, batch
// included), numpy.squeeze (Squeeze, `axis`) and indexing (GetItem: `x[:, 0, :]`, with ints,
// slices, None and an Ellipsis). Any dtype; the gradient of a float32 input is the output's
// gradient moved back.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/keras_tensor.hpp"
#include "kattn/ops/keras_ops.hpp"

namespace kattn::detail {

// One entry of an indexing key: an int, a slice (null bounds are Python's None), None
// (numpy.newaxis) or the Ellipsis.
using KeyItem = keras_ops::Index;

KerasTensor symbolic_transpose(const KerasTensor& x, std::optional<std::vector<int64_t>> axes);
KerasTensor symbolic_reshape(const KerasTensor& x, const Shape& newshape);
KerasTensor symbolic_squeeze(const KerasTensor& x, std::optional<std::vector<int64_t>> axis);
KerasTensor symbolic_get_item(const KerasTensor& x, const std::vector<KeyItem>& key);

// The registry entries of Transpose, Reshape, Squeeze and GetItem.
std::vector<OperationEntry> shape_operation_entries();

}  // namespace kattn::detail
