// Checks Conv1D and the global 1D poolings share: Keras's data_format argument and their
// rank-3 inputs.
#pragma once

#include <string>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// keras.backend.standardize_data_format: lowercased "channels_last" or "channels_first";
// anything else raises ValueError. (Keras's None, the default image_data_format, is
// channels_last; config readers map null to it.)
std::string standardize_data_format(ErrorSource source, const std::string& data_format);

// Keras's InputSpec(ndim=3): ValueError unless the input is (batch, steps, channels) or
// (batch, channels, steps).
void check_rank_3(ErrorSource source, const Shape& input_shape);

}  // namespace kattn::detail
