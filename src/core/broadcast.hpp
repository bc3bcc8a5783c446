// numpy broadcasting: the shape two operands broadcast to, an operand stretched to it, and the
// backward of that stretch (a gradient summed back to the operand's shape).
#pragma once

#include <cstdint>
#include <optional>

#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// numpy's broadcast of two shapes (aligned on the right, 1 stretches), or nullopt. Symbolic
// shapes may hold -1 (None): against 1 or -1 it stays unknown, against n it is n.
inline std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const Shape& longer = a.size() >= b.size() ? a : b;
  const Shape& shorter = a.size() >= b.size() ? b : a;
  Shape out = longer;
  const size_t lead = longer.size() - shorter.size();
  for (size_t i = 0; i < shorter.size(); ++i) {
    const int64_t l = longer[lead + i], s = shorter[i];
    if (l == 1 || l == s) {
      out[lead + i] = s;
    } else if (s == 1) {
      out[lead + i] = l;
    } else if (l < 0 || s < 0) {
      out[lead + i] = l < 0 ? s : l;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// For each element i of a row-major `shape`, the offset of the element it takes from a tensor
// broadcast to `shape` whose `strides` are 0 along the stretched axes: visit(i, offset).
template <typename Visit>
void for_each_broadcast_offset(const Shape& shape, const Shape& strides, Visit&& visit) {
  const size_t rank = shape.size();
  Shape index(rank, 0);
  const int64_t count = num_elements(shape);
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (size_t a = 0; a < rank; ++a) offset += index[a] * strides[a];
    visit(i, offset);
    for (size_t a = rank; a-- > 0;) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
}

// numpy.broadcast_to(x, shape), contiguous; `shape` is a broadcast of x's shape.
template <typename T>
BasicTensor<T> broadcast_to(const BasicTensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x.contiguous();
  const size_t rank = shape.size();
  const size_t lead = rank - x.shape().size();
  Shape strides(rank, 0);  // 0 on the axes x is stretched along
  for (size_t a = lead; a < rank; ++a) {
    if (x.shape()[a - lead] != 1) strides[a] = x.strides()[a - lead];
  }
  BasicTensor<T> out(shape);
  const T* src = x.data();
  T* dst = out.data();
  for_each_broadcast_offset(shape, strides,
                            [&](int64_t i, int64_t offset) { dst[i] = src[offset]; });
  return out;
}

// The backward of broadcast_to(x, d.shape()) for an x of `shape`: d summed over the axes x was
// stretched along (the leading axes it lacks and its axes of length 1).
inline Tensor sum_to_shape(const Tensor& d, const Shape& shape) {
  const Tensor dy = d.contiguous();
  if (dy.shape() == shape) return dy.clone();
  const size_t rank = dy.shape().size();
  const size_t lead = rank - shape.size();
  const Shape sum_strides = contiguous_strides(shape);
  Shape strides(rank, 0);  // 0 on the stretched axes: their elements add up
  for (size_t a = lead; a < rank; ++a) {
    if (shape[a - lead] != 1) strides[a] = sum_strides[a - lead];
  }
  Tensor out(shape);
  float* sum = out.data();
  for_each_broadcast_offset(dy.shape(), strides,
                            [&](int64_t i, int64_t offset) { sum[offset] += dy.data()[i]; });
  return out;
}

}  // namespace kattn::detail
