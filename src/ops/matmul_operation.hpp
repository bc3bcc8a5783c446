// numpy.matmul as Keras records it in model graphs (Matmul): float32 operands of rank >= 1,
// the last two axes multiplied, the leading axes broadcast as numpy broadcasts them (a 1-D
// operand is a row or a column, its axis dropped from the result). With its backward.
#pragma once

#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/keras_tensor.hpp"

namespace kattn::detail {

KerasTensor symbolic_matmul(const KerasTensor& x1, const KerasTensor& x2);

// The registry entry of Matmul.
std::vector<OperationEntry> matmul_operation_entries();

}  // namespace kattn::detail
