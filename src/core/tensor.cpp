#include "kattn/core/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "core/strided.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

using detail::for_each_offset;

namespace {

constexpr ErrorSource kTensor{"Tensor", ""};

std::string int_to_string(int64_t value) { return std::to_string(value); }

// Non-negative dimensions whose strides fit int64 (the strides multiply every dimension but
// the first, even when another one is 0).
Shape checked_shape(Shape shape) {
  int64_t stride_span = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      throw_value_error(kTensor, "invalid shape", "non-negative dimensions",
                        "shape=" + shape_to_string(shape));
    }
    if (__builtin_mul_overflow(stride_span, std::max<int64_t>(d, 1), &stride_span)) {
      throw_value_error(kTensor, "shape too large", "at most 2^63 - 1 elements",
                        "shape=" + shape_to_string(shape));
    }
  }
  return shape;
}

}  // namespace

int64_t num_elements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(count, d, &count)) {
      throw_value_error(kTensor, "shape too large", "at most 2^63 - 1 elements",
                        "shape=" + shape_to_string(shape));
    }
  }
  return count;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t axis = shape.size(); axis-- > 0;) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

std::string shape_to_string(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i] == -1 ? "None" : int_to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    throw_value_error(kTensor, "axis out of range",
                      "an axis in [" + int_to_string(-rank) + ", " + int_to_string(rank) +
                          ") for a tensor of rank " + int_to_string(rank),
                      "axis=" + int_to_string(axis));
  }
  return axis < 0 ? axis + rank : axis;
}

template <typename T>
BasicTensor<T>::BasicTensor(Shape shape)
    : storage_(nullptr),
      shape_(checked_shape(std::move(shape))),
      strides_(contiguous_strides(shape_)) {
  // One spare element keeps data() valid for empty tensors. calloc's zeros cost no memory
  // until written: a large tensor about to be overwritten (weights being loaded) is resident
  // once only.
  const auto count = static_cast<size_t>(num_elements(shape_)) + 1;
  T* values = static_cast<T*>(std::calloc(count, sizeof(T)));
  if (values == nullptr) throw std::bad_alloc();
  storage_ = std::shared_ptr<T[]>(values, [](T* p) { std::free(p); });
}

template <typename T>
BasicTensor<T>::BasicTensor(Shape shape, std::span<const T> values)
    : BasicTensor(std::move(shape)) {
  if (static_cast<int64_t>(values.size()) != size()) {
    throw_value_error(kTensor, "wrong number of values for the shape",
                      int_to_string(size()) + " values for shape " + shape_to_string(shape_),
                      int_to_string(static_cast<int64_t>(values.size())) + " values");
  }
  std::copy(values.begin(), values.end(), data());
}

template <typename T>
BasicTensor<T> BasicTensor<T>::full(Shape shape, T value) {
  BasicTensor<T> tensor(std::move(shape));
  tensor.fill(value);
  return tensor;
}

template <typename T>
bool BasicTensor<T>::is_contiguous() const {
  const Shape expected = contiguous_strides(shape_);
  for (size_t axis = 0; axis < shape_.size(); ++axis) {
    if (shape_[axis] > 1 && strides_[axis] != expected[axis]) return false;
  }
  return true;
}

template <typename T>
T& BasicTensor<T>::at(std::span<const int64_t> index) {
  return const_cast<T&>(std::as_const(*this).at(index));
}

template <typename T>
const T& BasicTensor<T>::at(std::span<const int64_t> index) const {
  if (static_cast<int64_t>(index.size()) != rank()) {
    throw_value_error(kTensor, "wrong number of indices",
                      int_to_string(rank()) + " indices for shape " + shape_to_string(shape_),
                      int_to_string(static_cast<int64_t>(index.size())) + " indices");
  }
  int64_t offset = 0;
  for (size_t axis = 0; axis < index.size(); ++axis) {
    if (index[axis] < 0 || index[axis] >= shape_[axis]) {
      throw_value_error(kTensor, "index out of range",
                        "an index in [0, " + int_to_string(shape_[axis]) + ") on axis " +
                            int_to_string(static_cast<int64_t>(axis)),
                        "index=" + shape_to_string(Shape(index.begin(), index.end())));
    }
    offset += index[axis] * strides_[axis];
  }
  return data()[offset];
}

template <typename T>
std::vector<T> BasicTensor<T>::to_vector() const {
  std::vector<T> values;
  values.reserve(static_cast<size_t>(size()));
  const T* base = data();
  for_each_offset(shape_, strides_, [&](int64_t offset) { values.push_back(base[offset]); });
  return values;
}

template <typename T>
BasicTensor<T> BasicTensor<T>::clone() const {
  BasicTensor<T> copy(shape_);
  T* dst = copy.data();
  const T* base = data();
  for_each_offset(shape_, strides_, [&](int64_t offset) { *dst++ = base[offset]; });
  return copy;
}

template <typename T>
BasicTensor<T> BasicTensor<T>::contiguous() const {
  return is_contiguous() ? *this : clone();
}

template <typename T>
BasicTensor<T> BasicTensor<T>::reshape(Shape shape) const {
  int64_t known = 1;
  int64_t inferred_axis = -1;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == -1 && inferred_axis < 0) {
      inferred_axis = static_cast<int64_t>(axis);
    } else if (__builtin_mul_overflow(known, shape[axis], &known)) {
      known = 0;  // no inference; the shape is refused below
    }
  }
  if (inferred_axis >= 0 && known > 0 && size() % known == 0) {
    shape[static_cast<size_t>(inferred_axis)] = size() / known;
  }
  shape = checked_shape(std::move(shape));
  if (num_elements(shape) != size()) {
    throw_value_error(kTensor, "cannot reshape",
                      "a shape with " + int_to_string(size()) + " elements (from " +
                          shape_to_string(shape_) + ")",
                      "shape=" + shape_to_string(shape));
  }
  BasicTensor<T> view = contiguous();
  view.shape_ = std::move(shape);
  view.strides_ = contiguous_strides(view.shape_);
  return view;
}

template <typename T>
BasicTensor<T> BasicTensor<T>::transpose(int64_t a, int64_t b) const {
  const auto ua = static_cast<size_t>(normalize_axis(a, rank()));
  const auto ub = static_cast<size_t>(normalize_axis(b, rank()));
  BasicTensor<T> view = *this;
  std::swap(view.shape_[ua], view.shape_[ub]);
  std::swap(view.strides_[ua], view.strides_[ub]);
  return view;
}

template <typename T>
BasicTensor<T> BasicTensor<T>::slice(int64_t axis, int64_t begin, int64_t end) const {
  const auto u = static_cast<size_t>(normalize_axis(axis, rank()));
  if (begin < 0 || end < begin || end > shape_[u]) {
    throw_value_error(kTensor, "slice out of range",
                      "0 <= begin <= end <= " + int_to_string(shape_[u]),
                      "begin=" + int_to_string(begin) + ", end=" + int_to_string(end));
  }
  BasicTensor<T> view = *this;
  view.offset_ += begin * strides_[u];
  view.shape_[u] = end - begin;
  return view;
}

template <typename T>
BasicTensor<T> BasicTensor<T>::expand_dims(int64_t axis) const {
  const auto u = static_cast<size_t>(normalize_axis(axis, rank() + 1));
  BasicTensor<T> view = *this;
  view.shape_.insert(view.shape_.begin() + static_cast<std::ptrdiff_t>(u), 1);
  view.strides_.insert(view.strides_.begin() + static_cast<std::ptrdiff_t>(u), 0);
  return view;
}

template <typename T>
void BasicTensor<T>::fill(T value) {
  T* base = data();
  for_each_offset(shape_, strides_, [&](int64_t offset) { base[offset] = value; });
}

template class BasicTensor<float>;
template class BasicTensor<double>;
template class BasicTensor<bool>;
template class BasicTensor<int32_t>;
template class BasicTensor<int64_t>;

}  // namespace kattn
