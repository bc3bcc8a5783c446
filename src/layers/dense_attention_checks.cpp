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

}  // namespace kattn::detail
