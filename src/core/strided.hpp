// Walking a strided tensor view element by element.
#pragma once

#include <cstdint>

#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// Calls visit(offset) for every index of `shape` in row-major order, with the index's offset
// under `strides`.
template <typename Visit>
void for_each_offset(const Shape& shape, const Shape& strides, Visit&& visit) {
  const int64_t count = num_elements(shape);
  if (count == 0) return;
  Shape index(shape.size(), 0);
  int64_t offset = 0;
  for (int64_t n = 0; n < count; ++n) {
    visit(offset);
    for (size_t axis = shape.size(); axis-- > 0;) {
      ++index[axis];
      offset += strides[axis];
      if (index[axis] < shape[axis]) break;
      offset -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
}

}  // namespace kattn::detail
