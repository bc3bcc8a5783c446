// The keras.ops functions Keras records in model graphs, mostly where Keras computes masks
// (and Cast, which users write around them):
// Embedding(mask_zero)'s not_equal(ids, 0), Add's logical_or of its input masks, the attention
// layers' convert_to_tensor(query_mask), Masking's any(not_equal(x, value), axis=-1), and
// masks a user computes with keras.ops (expand_dims), and the Concatenate layer's mask as Keras
// 3.16 records it (ones_like / zeros_like for inputs without one, concatenate, any).
#pragma once

#include <cstdint>
#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/keras_tensor.hpp"

namespace kattn::detail {

// Symbolic calls, each recording a node named like Keras's auto-naming ("not_equal",
// "not_equal_1", ...).
KerasTensor symbolic_not_equal(const KerasTensor& x, const Config& scalar);
KerasTensor symbolic_logical_or(const KerasTensor& a, const KerasTensor& b);
KerasTensor symbolic_convert_to_tensor(const KerasTensor& x);
KerasTensor symbolic_any(const KerasTensor& x, int64_t axis);
KerasTensor symbolic_expand_dims(const KerasTensor& x, int64_t axis);
KerasTensor symbolic_cast(const KerasTensor& x, DType dtype);

// The registry entries of these classes (NotEqual, LogicalOr, ConvertToTensor, ExpandDims, Any,
// Concatenate, ZerosLike, OnesLike, Cast).
std::vector<OperationEntry> numpy_operation_entries();

}  // namespace kattn::detail
