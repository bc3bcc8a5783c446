// The keras.ops.nn functions Keras records in model graphs (module keras.src.ops.nn): Softmax
// (`axis`, an int or a list: kattn/ops/softmax.hpp), Gelu (`approximate`: the tanh form, or
// the exact erf form), Relu and Sigmoid. Not the Softmax layer: the registry tells them apart by
// module. Float32, with their backward.
#pragma once

#include <cstdint>
#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/keras_tensor.hpp"

namespace kattn::detail {

inline const std::string kNnOps = "keras.src.ops.nn";

KerasTensor symbolic_softmax(const KerasTensor& x, std::vector<int64_t> axis);
KerasTensor symbolic_gelu(const KerasTensor& x, bool approximate);

// The registry entries of Softmax, Gelu, Relu and Sigmoid.
std::vector<OperationEntry> nn_operation_entries();

}  // namespace kattn::detail
