// Python's arithmetic and comparison operators on KerasTensors, as keras.ops nodes.
#include "kattn/core/keras_tensor.hpp"
#include "ops/arithmetic_operations.hpp"
#include "ops/numpy_operations.hpp"

namespace kattn {

namespace {

using detail::BinaryOp;
using Arg = NodeArg<KerasTensor>;

KerasTensor binary(BinaryOp op, Arg a, Arg b) {
  return detail::symbolic_binary(op, std::move(a), std::move(b));
}

}  // namespace

#define KATTN_BINARY_OPERATOR(symbol, op)                                   \
  KerasTensor operator symbol(const KerasTensor& a, const KerasTensor& b) { \
    return binary(op, Arg::tensor(a), Arg::tensor(b));                      \
  }                                                                         \
  KerasTensor operator symbol(const KerasTensor& a, double b) {             \
    return binary(op, Arg::tensor(a), Arg::literal(b));                     \
  }                                                                         \
  KerasTensor operator symbol(double a, const KerasTensor& b) {             \
    return binary(op, Arg::literal(a), Arg::tensor(b));                     \
  }

KATTN_BINARY_OPERATOR(+, BinaryOp::kAdd)
KATTN_BINARY_OPERATOR(-, BinaryOp::kSubtract)
KATTN_BINARY_OPERATOR(*, BinaryOp::kMultiply)
KATTN_BINARY_OPERATOR(/, BinaryOp::kTrueDivide)

#undef KATTN_BINARY_OPERATOR

KerasTensor operator-(const KerasTensor& a) { return detail::symbolic_negative(a); }

KerasTensor operator!=(const KerasTensor& a, int b) {
  return detail::symbolic_not_equal(a, Config(b));
}

KerasTensor operator!=(const KerasTensor& a, double b) {
  return detail::symbolic_not_equal(a, Config(b));
}

}  // namespace kattn
