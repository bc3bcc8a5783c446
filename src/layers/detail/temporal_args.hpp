// Checks Conv1D, the 1D poolings and the 1D reshaping layers share: Keras's data_format and
// tuple arguments and their rank-3 inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/int_or_list.hpp"

namespace kattn::detail {

// keras.backend.standardize_data_format: lowercased "channels_last" or "channels_first";
// anything else raises ValueError. (Keras's None, the default image_data_format, is
// channels_last; config readers map null to it.)
std::string standardize_data_format(ErrorSource source, const std::string& data_format);

// keras.utils.argument_validation.standardize_tuple(value, n, name, allow_zero): an int repeated
// n times, or a list of n ints; ValueError unless each is > 0 (>= 0 with allow_zero).
std::vector<int64_t> standardize_tuple(ErrorSource source, const std::string& name,
                                       const IntOrList& value, size_t n, bool allow_zero = false);

// Keras's InputSpec(ndim=3): ValueError unless the input is (batch, steps, channels) or
// (batch, channels, steps).
void check_rank_3(ErrorSource source, const Shape& input_shape);

}  // namespace kattn::detail
