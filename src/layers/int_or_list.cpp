#include "kattn/layers/int_or_list.hpp"

#include <algorithm>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

IntOrList IntOrList::read(ConfigReader& reader, std::string_view key, const IntOrList& fallback) {
  const Config value = reader.get(key, fallback.to_json());
  if (value.is_number_integer()) return IntOrList(value.get<int64_t>());
  if (!value.is_array()) reader.fail(key, "an int or a list of ints");
  std::vector<int64_t> list;
  for (const Config& item : value) {
    if (!item.is_number_integer()) reader.fail(key, "an int or a list of ints");
    list.push_back(item.get<int64_t>());
  }
  return IntOrList(std::move(list));
}

Config IntOrList::to_json() const {
  if (is_int) return values[0];
  Config list = Config::array();
  for (const int64_t value : values) list.push_back(value);
  return list;
}

std::string IntOrList::to_string() const {
  if (is_int) return std::to_string(values[0]);
  std::string text = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(values[i]);
  }
  return text + (values.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> IntOrList::resolve_axes(const Shape& input_shape,
                                             const ErrorSource& source) const {
  const auto rank = static_cast<int64_t>(input_shape.size());
  std::vector<int64_t> axes;
  for (const int64_t axis : values) {
    if (axis < -rank || axis >= rank) {
      throw_value_error(source,
                        "Axis " + std::to_string(axis) + " is out of bounds for input shape " +
                            detail::keras_shape(input_shape),
                        "axes in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
                        "axis=" + to_string());
    }
    const int64_t resolved = axis < 0 ? axis + rank : axis;
    if (std::find(axes.begin(), axes.end(), resolved) != axes.end()) {
      throw_value_error(source, "Duplicate axis", "distinct axes", "axis=" + to_string());
    }
    axes.push_back(resolved);
  }
  return axes;
}

}  // namespace kattn
