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

std::vector<int64_t> standardize_tuple(ErrorSource source, const std::string& name,
                                       const IntOrList& value, size_t n, bool allow_zero) {
  std::vector<int64_t> tuple = value.values;
  if (value.is_int) tuple.assign(n, value.values[0]);
  const bool fits = std::all_of(tuple.begin(), tuple.end(),
                                [&](int64_t v) { return allow_zero ? v >= 0 : v > 0; });
  if (tuple.size() != n || !fits) {
    throw_value_error(
        source, "The `" + name + "` argument must be a tuple of " + std::to_string(n) + " integers",
        (n == 1 ? std::string("one integer") : std::to_string(n) + " integers") +
            (allow_zero ? " >= 0" : " > 0"),
        name + "=" + value.to_string());
  }
  return tuple;
}

void check_rank_3(ErrorSource source, const Shape& input_shape) {
  if (input_shape.size() == 3) return;
  throw_value_error(
      source, "Input 0 is incompatible with the layer", "ndim=3",
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + keras_shape(input_shape));
}

}  // namespace kattn::detail
