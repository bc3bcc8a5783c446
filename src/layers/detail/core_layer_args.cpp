#include "layers/detail/core_layer_args.hpp"

#include <string>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn::detail {

void read_unsupported_argument(ConfigReader& reader, std::string_view key) {
  const Config value = reader.get(key, nullptr);
  if (value.is_null()) return;
  const std::string name(key);
  throw NotSupportedError(error_message(reader.source(), "unsupported argument", name + "=None",
                                        name + "=" + value.dump()));
}

void check_min_rank(ErrorSource source, const Shape& input_shape, int64_t min_rank) {
  if (static_cast<int64_t>(input_shape.size()) >= min_rank) return;
  throw_value_error(
      source, "Input 0 is incompatible with the layer", "min_ndim=" + std::to_string(min_rank),
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + keras_shape(input_shape));
}

}  // namespace kattn::detail
