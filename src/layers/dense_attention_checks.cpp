#include "layers/dense_attention_checks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kattn::detail {

namespace {

Shape leading_axes(const Shape& shape) { return Shape(shape.begin(), shape.end() - 2); }

std::string shape_arg(const std::string& name, const Shape& shape) {
  return name + ".shape=" + shape_to_string(shape);
}

}  // namespace

void check_dense_attention_shapes(ErrorSource source, const std::vector<Shape>& shapes) {
  // Attention._validate_inputs.
  if (shapes.size() < 2 || shapes.size() > 3) {
    throw_value_error(source, "wrong number of inputs",
                      "an inputs list of length 2 or 3, namely [query, value] or "
                      "[query, value, key]",
                      "length=" + std::to_string(shapes.size()));
  }
  const bool has_key = shapes.size() == 3;
  const Shape& query = shapes[0];
  const Shape& value = shapes[1];
  const Shape& key = has_key ? shapes[2] : shapes[1];
  const std::string key_name = has_key ? "key" : "value";

  const char* const names[] = {"query", "value", "key"};
  const char* const layouts[] = {"(batch, ..., Tq, dim)", "(batch, ..., Tv, value_dim)",
                                 "(batch, ..., Tv, dim)"};
  for (size_t n = 0; n < shapes.size(); ++n) {
    if (shapes[n].size() < 3) {
      throw_value_error(source, std::string("invalid rank for ") + names[n],
                        std::string("rank 3 or more: ") + layouts[n],
                        shape_arg(names[n], shapes[n]));
    }
  }
  const Shape batch = leading_axes(query);
  for (size_t n = 1; n < shapes.size(); ++n) {
    if (leading_axes(shapes[n]) != batch) {
      throw_value_error(
          source,
          std::string("the batch (leading) dimensions of query and ") + names[n] + " must be equal",
          std::string(names[n]) + ".shape[:-2] == " + shape_to_string(batch) +
              " (query.shape[:-2])",
          shape_arg(names[n], shapes[n]));
    }
  }
  if (key.back() != query.back()) {
    throw_value_error(
        source,
        "the feature dimensions of query and " +
            (has_key ? key_name : key_name + " (used as key)") + " must be equal",
        key_name + ".shape[-1] == " + std::to_string(query.back()) + " (query.shape[-1])",
        shape_arg(key_name, key));
  }
  if (has_key && key[key.size() - 2] != value[value.size() - 2]) {
    throw_value_error(
        source, "the lengths of value and key must be equal",
        "key.shape[-2] == " + std::to_string(value[value.size() - 2]) + " (value.shape[-2])",
        shape_arg("key", key));
  }
}

void check_dense_attention_masks(ErrorSource source, const Shape& query, const Shape& value,
                                 const std::optional<Mask>& query_mask,
                                 const std::optional<Mask>& value_mask) {
  const auto check = [&](const std::optional<Mask>& mask, const std::string& mask_name,
                         const std::string& input_name, const Shape& input) {
    if (!mask) return;
    const Shape expected(input.begin(), input.end() - 1);
    if (mask->shape() != expected) {
      throw_value_error(source, mask_name + " has the wrong shape",
                        input_name + ".shape[:-1] = " + shape_to_string(expected),
                        shape_arg(mask_name, mask->shape()));
    }
  };
  check(query_mask, "query_mask", "query", query);
  check(value_mask, "value_mask", "value", value);
}

void check_dropout_rate(ErrorSource source, double dropout) {
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    throw_value_error(source, "Invalid value for argument dropout", "a float in [0, 1)",
                      "dropout=" + python_float(dropout));
  }
}

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Python's repr: the shortest round-tripping digits, written positionally when the decimal
  // exponent lies in [-4, 16) (always with a fractional part) and in exponent form otherwise.
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string text(buffer, result.ptr);  // "-1.2345e+02"
  const size_t e = text.find('e');
  const bool negative = text[0] == '-';
  std::string digits = text.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(text.substr(e + 1));
  std::string out;
  if (negative) out.push_back('-');
  if (exponent < -4 || exponent >= 16) {
    out.append(digits, 0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    out.append(text, e);
    return out;
  }
  if (exponent < 0) {
    out.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
    return out;
  }
  const auto integral = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integral) {
    out.append(digits).append(integral - digits.size(), '0').append(".0");
  } else {
    out.append(digits, 0, integral).append(".").append(digits, integral);
  }
  return out;
}

}  // namespace kattn::detail
