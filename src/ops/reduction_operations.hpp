// numpy.mean and numpy.sum as Keras records them in model graphs (Mean, Sum: `axis` null, an int
// or a list, `keepdims`), with Keras's dtypes: Mean of int32 or bool gives float32, Sum of bool
// gives int32. The gradient of a float32 input is the output's gradient spread back over the
// reduced axes (divided by their size for Mean).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/operation_entry.hpp"
#include "kattn/core/keras_tensor.hpp"

namespace kattn::detail {

KerasTensor symbolic_mean(const KerasTensor& x, std::optional<std::vector<int64_t>> axis,
                          bool keepdims);
KerasTensor symbolic_sum(const KerasTensor& x, std::optional<std::vector<int64_t>> axis,
                         bool keepdims);

// The registry entries of Mean and Sum.
std::vector<OperationEntry> reduction_operation_entries();

}  // namespace kattn::detail
