// N-dimensional arrays: float32 tensors, boolean masks, integer ids.
//
// A BasicTensor is a handle, like a numpy array or a torch::Tensor: copies share storage, and
// views (transpose, slice, reshape of contiguous data) share it too; clone() copies the data.
// Strides are in elements, row-major ("C order", last axis fastest) for fresh tensors.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kattn {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for the 0-d shape ()).
int64_t num_elements(const Shape& shape);

// Row-major strides of a shape, in elements.
Shape contiguous_strides(const Shape& shape);

// A shape written as Python writes a tuple: "(2, 3, 4)", "(5,)", "()"; -1, a symbolic shape's
// unknown size, as Keras writes it: "(None, 4)".
std::string shape_to_string(const Shape& shape);

// Resolves a possibly negative axis against a rank, as Keras does (-1 is the last axis).
// Throws ValueError when the axis is outside [-rank, rank).
int64_t normalize_axis(int64_t axis, int64_t rank);

template <typename T>
class BasicTensor {
 public:
  using value_type = T;

  // A 0-d tensor holding T{}.
  BasicTensor() : BasicTensor(Shape{}) {}

  // A contiguous tensor of `shape`, filled with T{} (zeros, false).
  explicit BasicTensor(Shape shape);

  // A contiguous tensor of `shape` holding `values` in row-major order; the count must match.
  BasicTensor(Shape shape, std::span<const T> values);
  BasicTensor(Shape shape, std::initializer_list<T> values)
      : BasicTensor(std::move(shape), std::span<const T>(values.begin(), values.size())) {}

  static BasicTensor full(Shape shape, T value);

  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  // Length of `axis`; negative axes count from the end.
  int64_t dim(int64_t axis) const {
    return shape_[static_cast<size_t>(normalize_axis(axis, rank()))];
  }
  int64_t size() const { return num_elements(shape_); }
  int64_t stride(int64_t axis) const {
    return strides_[static_cast<size_t>(normalize_axis(axis, rank()))];
  }
  // True when the elements lie in row-major order with no gaps (axes of length 1 ignored).
  bool is_contiguous() const;

  // Pointer to the element at index (0, ..., 0).
  T* data() { return storage_.get() + offset_; }
  const T* data() const { return storage_.get() + offset_; }

  // Unchecked element access: t(b, i, j).
  template <typename... Index>
  T& operator()(Index... index) {
    return data()[offset_of(index...)];
  }
  template <typename... Index>
  const T& operator()(Index... index) const {
    return data()[offset_of(index...)];
  }

  // Checked element access; throws ValueError on a wrong index count or an index out of range.
  T& at(std::span<const int64_t> index);
  const T& at(std::span<const int64_t> index) const;

  // A copy with its own contiguous storage.
  BasicTensor clone() const;
  // This tensor when it is contiguous, else a contiguous copy.
  BasicTensor contiguous() const;
  // A view of contiguous data with another shape of the same size (one entry may be -1);
  // non-contiguous tensors are copied first.
  BasicTensor reshape(Shape shape) const;
  // A view with axes `a` and `b` swapped.
  BasicTensor transpose(int64_t a, int64_t b) const;
  // A view of indices [begin, end) along `axis`.
  BasicTensor slice(int64_t axis, int64_t begin, int64_t end) const;
  // A view with one more axis of length 1 at `axis` (numpy's expand_dims).
  BasicTensor expand_dims(int64_t axis) const;

  void fill(T value);

  // Element-wise conversion (float <-> double, for the double-precision reference).
  template <typename U>
  BasicTensor<U> cast() const;

  // The elements in row-major order.
  std::vector<T> to_vector() const;

 private:
  template <typename... Index>
  int64_t offset_of(Index... index) const {
    int64_t offset = 0;
    size_t axis = 0;
    ((offset += static_cast<int64_t>(index) * strides_[axis++]), ...);
    return offset;
  }

  std::shared_ptr<T[]> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  Shape strides_;
};

using Tensor = BasicTensor<float>;
using TensorF64 = BasicTensor<double>;
// A Keras boolean mask: true = keep / may be attended, false = masked.
using Mask = BasicTensor<bool>;
using Int32Tensor = BasicTensor<int32_t>;
using Int64Tensor = BasicTensor<int64_t>;

extern template class BasicTensor<float>;
extern template class BasicTensor<double>;
extern template class BasicTensor<bool>;
extern template class BasicTensor<int32_t>;
extern template class BasicTensor<int64_t>;

template <typename T>
template <typename U>
BasicTensor<U> BasicTensor<T>::cast() const {
  BasicTensor<U> out(shape_);
  std::vector<T> values = to_vector();
  U* dst = out.data();
  for (size_t i = 0; i < values.size(); ++i) {
    dst[i] = static_cast<U>(values[i]);
  }
  return out;
}

}  // namespace kattn
