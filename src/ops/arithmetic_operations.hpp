// Symbolic calls of the keras.ops arithmetic (the C++ operators on KerasTensor), each recording a
// node named by Keras's auto-naming ("add", "add_1", ...).
#pragma once

#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/node_arguments.hpp"

namespace kattn::detail {

// Python's `+ - *` and `/` on KerasTensors (Add, Subtract, Multiply, TrueDivide), and
// keras.ops.divide (Divide).
enum class BinaryOp { kAdd, kSubtract, kMultiply, kDivide, kTrueDivide };

// x1 op x2; each a tensor or a number literal.
KerasTensor symbolic_binary(BinaryOp op, NodeArg<KerasTensor> x1, NodeArg<KerasTensor> x2);
KerasTensor symbolic_negative(const KerasTensor& x);

// The registry entries of these classes (Add, Subtract, Multiply, Divide, TrueDivide, Negative,
// Absolute, Square, Sqrt, Exp, Tanh).
std::vector<OperationEntry> arithmetic_operation_entries();

}  // namespace kattn::detail
