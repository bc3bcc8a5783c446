#include "layers/detail/temporal_args.hpp"

#include <algorithm>
#include <cctype>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn::detail {

std::string standardize_data_format(ErrorSource source, const std::string& data_format) {
  std::string lowered = data_format;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (lowered != "channels_last" && lowered != "channels_first") {
    throw_value_error(source, "Invalid value for argument `data_format`",
                      "one of {'channels_first', 'channels_last'}", "data_format=" + lowered);
  }
  return lowered;
}

void check_rank_3(ErrorSource source, const Shape& input_shape) {
  if (input_shape.size() == 3) return;
  throw_value_error(
      source, "Input 0 is incompatible with the layer", "ndim=3",
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + keras_shape(input_shape));
}

}  // namespace kattn::detail
