#include <gtest/gtest.h>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {
namespace {

TEST(Tensor, FreshTensorIsZeroFilledAndContiguous) {
  Tensor t({2, 3});
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.size(), 6);
  EXPECT_TRUE(t.is_contiguous());
  for (float v : t.to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, ZeroDimensionalTensorHoldsOneValue) {
  Tensor scalar = Tensor::full({}, 0.7f);
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_EQ(scalar.size(), 1);
  EXPECT_EQ(scalar.data()[0], 0.7f);
}

TEST(Tensor, IndexingFollowsRowMajorOrder) {
  Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(t(1, 2), 5.0f);
  EXPECT_EQ(t(0, 1), 1.0f);
  const int64_t index[] = {1, 0};
  EXPECT_EQ(t.at(index), 3.0f);
}

TEST(Tensor, CheckedAccessNamesTheBadIndex) {
  Tensor t({2, 3});
  const int64_t index[] = {2, 0};
  try {
    (void)t.at(index);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "Tensor: index out of range. Expected an index in [0, 2) on axis 0. "
                 "Received: index=(2, 0).");
  }
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a({2}, {1, 2});
  Tensor shared = a;
  Tensor copy = a.clone();
  a(0) = 9;
  EXPECT_EQ(shared(0), 9.0f);
  EXPECT_EQ(copy(0), 1.0f);
}

TEST(Tensor, TransposeIsAStridedView) {
  Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt(2, 1), 5.0f);
  EXPECT_EQ(tt.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(tt.contiguous().is_contiguous());
}

TEST(Tensor, SliceAndReshape) {
  Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor s = t.slice(1, 1, 3);
  EXPECT_EQ(s.to_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(s.reshape({-1}).to_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(t.reshape({3, 2})(2, 1), 5.0f);
  EXPECT_THROW((void)t.reshape({4, 2}), ValueError);
}

TEST(Tensor, ExpandDimsAndNegativeAxes) {
  Tensor t({2, 3});
  EXPECT_EQ(t.expand_dims(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(t.expand_dims(1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_THROW((void)t.dim(2), ValueError);
}

TEST(Tensor, ShapesPrintLikePythonTuples) {
  EXPECT_EQ(shape_to_string({}), "()");
  EXPECT_EQ(shape_to_string({5}), "(5,)");
  EXPECT_EQ(shape_to_string({2, 3, 4}), "(2, 3, 4)");
}

TEST(Tensor, WrongValueCountIsRefused) {
  EXPECT_THROW(Tensor({2, 2}, {1, 2, 3}), ValueError);
  EXPECT_THROW(Tensor({-1, 2}), ValueError);
}

TEST(Tensor, CastToDouble) {
  Tensor t({2}, {0.5f, -1.25f});
  TensorF64 d = t.cast<double>();
  EXPECT_EQ(d(1), -1.25);
}

}  // namespace
}  // namespace kattn

namespace kattn {
namespace {

TEST(TensorShapes, ElementCountsThatOverflowAreRefused) {
  // 2^62 * 4 wraps int64 to 0; 2^40 * 2^40 far beyond it.
  EXPECT_THROW(Tensor(Shape{int64_t{1} << 62, 4}), ValueError);
  EXPECT_THROW(Tensor(Shape{int64_t{1} << 40, int64_t{1} << 40}), ValueError);
  // An empty tensor's strides still multiply the other dimensions.
  EXPECT_THROW(Tensor(Shape{0, int64_t{1} << 40, int64_t{1} << 40}), ValueError);
  EXPECT_THROW(num_elements(Shape{int64_t{1} << 62, 4}), ValueError);
  EXPECT_THROW(Tensor(Shape{2, 3}).reshape({int64_t{1} << 62, 4, -1}), ValueError);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer stops at such a request instead
  // Large but countable: the allocation fails, and says so.
  EXPECT_THROW(Tensor(Shape{int64_t{1} << 61}), std::bad_alloc);
#endif
}

}  // namespace
}  // namespace kattn
