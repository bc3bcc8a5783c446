#include "layers/detail/projected_attention_args.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kattn::detail {

void check_positive_argument(ErrorSource source, std::string_view name, int64_t value) {
  if (value > 0) return;
  throw_value_error(source, "Invalid value for argument `" + std::string(name) + "`",
                    "a positive integer", std::string(name) + "=" + std::to_string(value));
}

void check_sliding_window(ErrorSource source, std::optional<int64_t> sliding_window) {
  if (!sliding_window || *sliding_window > 0) return;
  throw_value_error(source, "Invalid value for argument `sliding_window`",
                    "a positive integer or None",
                    "sliding_window=" + std::to_string(*sliding_window));
}

void check_flash_attention(ErrorSource source, std::optional<bool> flash_attention,
                           double dropout) {
  if (flash_attention.value_or(false) && dropout > 0.0) {
    throw_value_error(source,
                      "Dropout is not supported when flash attention is enabled. Please set "
                      "dropout to 0.0 to use flash attention",
                      "dropout=0.0 with flash_attention=True", "dropout=" + python_float(dropout));
  }
}

void check_flash_attention_scores(ErrorSource source, bool flash_attention,
                                  bool return_attention_scores) {
  if (flash_attention && return_attention_scores) {
    throw_value_error(source,
                      "Returning attention scores is not supported when flash attention is "
                      "enabled. Please disable flash attention to access attention scores",
                      "return_attention_scores=False with flash_attention=True",
                      "return_attention_scores=True");
  }
}

int64_t read_positive_int(ConfigReader& reader, std::string_view key) {
  const Config& value = reader.get(key, nullptr);
  const std::string name(key);
  if (value.is_number_integer()) {
    check_positive_argument(reader.source(), key, value.get<int64_t>());
    return value.get<int64_t>();
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (number == std::floor(number) && std::fabs(number) < 9e15) {
      check_positive_argument(reader.source(), key, static_cast<int64_t>(number));
      return static_cast<int64_t>(number);
    }
    throw_value_error(reader.source(), "Invalid value for argument `" + name + "`",
                      "a positive integer", name + "=" + python_float(number));
  }
  throw_value_error(reader.source(), "Invalid value for argument `" + name + "`",
                    "a positive integer",
                    name + "=" + (value.is_null() ? std::string("None") : value.dump()));
}

std::optional<int64_t> read_optional_int(ConfigReader& reader, std::string_view key) {
  if (reader.get(key, nullptr).is_null()) return std::nullopt;
  return reader.get_int(key, 0);
}

std::optional<bool> read_optional_bool(ConfigReader& reader, std::string_view key) {
  if (reader.get(key, nullptr).is_null()) return std::nullopt;
  return reader.get_bool(key, false);
}

Config read_keras_object(ConfigReader& reader, std::string_view key) {
  const Config& value = reader.get(key, nullptr);
  if (!value.is_null() && !value.is_string() && !value.is_object()) {
    reader.fail(key, "null, a name or a serialized Keras object");
  }
  return value;
}

std::string keras_shape(const Shape& shape) {
  std::string text = "(";
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (axis > 0) text += ", ";
    text += shape[axis] < 0 ? "None" : std::to_string(shape[axis]);
  }
  return text + (shape.size() == 1 ? ",)" : ")");
}

namespace {

// Dimensions known on both sides (not -1) must be equal.
bool same_known(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t axis = 0; axis < a.size(); ++axis) {
    if (a[axis] >= 0 && b[axis] >= 0 && a[axis] != b[axis]) return false;
  }
  return true;
}

}  // namespace

void check_value_key(ErrorSource source, const Shape& value_shape, const Shape& key_shape,
                     bool with_batch) {
  const auto begin = with_batch ? 0 : 1;
  const auto rest = [&](const Shape& s) {  // s[begin:-1]
    return s.size() < 2 ? Shape{} : Shape(s.begin() + begin, s.end() - 1);
  };
  if (!same_known(rest(value_shape), rest(key_shape))) {
    throw_value_error(
        source, "All dimensions of `value` and `key`, except the last one, must be equal",
        "value and key shapes that differ only in their last axis",
        "value_shape=" + keras_shape(value_shape) + " and key_shape=" + keras_shape(key_shape));
  }
}

Config optional_to_json(const std::optional<int64_t>& value) {
  return value ? Config(*value) : Config(nullptr);
}

Config shape_to_json(const Shape& shape) {
  Config list = Config::array();
  for (const int64_t dim : shape) list.push_back(dim);
  return list;
}

}  // namespace kattn::detail
