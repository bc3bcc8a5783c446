// The elements of a contiguous tensor grouped for a reduction over some of its axes: group g
// holds the elements at outer[g] + inner[j] for every j (the softmax, mean or normalisation of
// one position of the other axes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/strided.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

struct AxisGroups {
  std::vector<int64_t> outer;  // one offset per position of the axes not reduced
  std::vector<int64_t> inner;  // one offset per position of the reduced axes
};

// `reduced`: distinct axes in [0, rank), in any order (the inner offsets follow the axes'
// order in the tensor).
inline AxisGroups axis_groups(const Shape& shape, const std::vector<int64_t>& reduced) {
  const Shape strides = contiguous_strides(shape);
  Shape outer_shape, outer_strides, inner_shape, inner_strides;
  for (size_t a = 0; a < shape.size(); ++a) {
    const bool in =
        std::find(reduced.begin(), reduced.end(), static_cast<int64_t>(a)) != reduced.end();
    (in ? inner_shape : outer_shape).push_back(shape[a]);
    (in ? inner_strides : outer_strides).push_back(strides[a]);
  }
  AxisGroups groups;
  for_each_offset(outer_shape, outer_strides, [&](int64_t o) { groups.outer.push_back(o); });
  for_each_offset(inner_shape, inner_strides, [&](int64_t i) { groups.inner.push_back(i); });
  return groups;
}

}  // namespace kattn::detail
