// Keras arguments that take an int or a list of ints (Conv1D's kernel_size, strides and
// dilation_rate; LayerNormalization's axis). Both spellings read naturally in designated
// initialisers: `.kernel_size = 4` and `.kernel_size = {4}`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

struct IntOrList {
  // A plain int, remembered as one: LayerNormalization writes `axis` back as it was given.
  IntOrList(int64_t value) : values{value}, is_int(true) {}  // NOLINT(google-explicit-constructor)
  IntOrList(std::initializer_list<int64_t> list) : values(list) {}
  explicit IntOrList(std::vector<int64_t> list) : values(std::move(list)) {}

  // The config entry at `key`: a JSON integer or a list of JSON integers; anything else fails
  // through reader.fail(key, ...). `fallback` when the key is absent.
  static IntOrList read(ConfigReader& reader, std::string_view key, const IntOrList& fallback);

  // As Keras serialises it: the int, or the list.
  Config to_json() const;
  // As Python prints it in Keras's messages: "4", "(4,)", "(1, 2)".
  std::string to_string() const;

  // These values as axes of an input of `input_shape`: each in [0, rank) (negative ones count
  // from the end), in the order given. ValueError naming `source` for an axis out of bounds
  // (worded as Keras's LayerNormalization words it) or an axis given twice (numpy refuses a
  // reduction over a repeated axis).
  std::vector<int64_t> resolve_axes(const Shape& input_shape, const ErrorSource& source) const;

  std::vector<int64_t> values;
  bool is_int = false;
};

}  // namespace kattn
