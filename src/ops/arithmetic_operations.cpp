// The keras.ops arithmetic Keras records in graphs for Python operators on symbolic tensors and
// for the user's own keras.ops calls: `x + res` is Add(x, res), `2.0 - a` is Subtract(2.0, a),
// `a / b` is TrueDivide, keras.ops.divide is Divide; and the elementwise functions Negative,
// Absolute, Square, Sqrt, Exp and Tanh.
//
// Operands are tensors or Python numbers, broadcast as numpy broadcasts them. The result dtype
// is Keras's result_type: float32 when an operand is float32 or a float literal, or for a
// division; int32 for int32 operands and int literals. Arithmetic runs in float32 (the literal
// rounded to float32 first, as jax's weak types do), or in int32 for int32 results.
#include "ops/arithmetic_operations.hpp"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <type_traits>

#include "core/broadcast.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kUnaryParameters{"x"};
const std::vector<std::string> kBinaryParameters{"x1", "x2"};

enum class Arithmetic { kAdd, kSubtract, kMultiply, kDivide };

// One operand of a binary op: a tensor (symbolic or concrete) or a number.
template <typename Leaf>
struct Operand {
  const NodeArg<Leaf>* arg;

  bool is_tensor() const { return arg->is_tensor(); }
  const Leaf& tensor() const { return std::get<Leaf>(arg->value); }
  const Config& literal() const { return std::get<Config>(arg->value); }
};

// The operand bound to `name`: a tensor or a number; ValueError naming it otherwise.
template <typename Leaf>
Operand<Leaf> operand(const BoundArguments<Leaf>& arguments, const std::string& name) {
  const NodeArg<Leaf>* arg = arguments.find(name);
  if (arg == nullptr) {
    throw_value_error(arguments.source(), "missing call argument `" + name + "`",
                      "a tensor or a number", "nothing");
  }
  if (!arg->is_tensor()) {
    const Config* literal = std::get_if<Config>(&arg->value);
    if (literal == nullptr || !(literal->is_number() || literal->is_boolean())) {
      throw NotSupportedError(error_message(
          arguments.source(), "unsupported call argument `" + name + "`", "a tensor or a number",
          name + "=" + (literal ? literal->dump() : "a list")));
    }
  }
  return Operand<Leaf>{arg};
}

DType dtype_of_operand(const Operand<KerasTensor>& x) { return x.tensor().dtype(); }
DType dtype_of_operand(const Operand<ValuePtr>& x) { return dtype_of(x.tensor()->tensor); }
const Shape& shape_of_operand(const Operand<KerasTensor>& x) { return x.tensor().shape(); }
const Shape& shape_of_operand(const Operand<ValuePtr>& x) { return shape_of(x.tensor()->tensor); }

// Keras's result_type for the operands: float32 or int32; NotSupportedError for bool tensors
// with no float operand (numpy would compute in bool or int8).
template <typename Leaf>
DType result_dtype(Arithmetic op, const Operand<Leaf>& x1, const Operand<Leaf>& x2,
                   ErrorSource source) {
  bool any_float = op == Arithmetic::kDivide;
  bool any_bool = false;
  for (const Operand<Leaf>* x : {&x1, &x2}) {
    if (x->is_tensor()) {
      const DType dtype = dtype_of_operand(*x);
      any_float = any_float || dtype == DType::kFloat32;
      any_bool = any_bool || dtype == DType::kBool;
    } else {
      any_float = any_float || x->literal().is_number_float();
    }
  }
  if (any_float) return DType::kFloat32;
  if (any_bool) {
    throw NotSupportedError(error_message(source, "arithmetic on bool tensors is not supported",
                                          "a float32 or int32 operand",
                                          "bool operands without a float one"));
  }
  return DType::kInt32;
}

// An operand as a tensor of T: the tensor converted, or the number as a 0-d tensor.
template <typename T>
BasicTensor<T> operand_values(const Operand<ValuePtr>& x) {
  if (!x.is_tensor()) {
    const Config& literal = x.literal();
    const double value =
        literal.is_boolean() ? (literal.get<bool>() ? 1.0 : 0.0) : literal.get<double>();
    return BasicTensor<T>(Shape{}, {static_cast<T>(value)});
  }
  return std::visit(
      [](const auto& tensor) -> BasicTensor<T> {
        if constexpr (std::is_same_v<std::decay_t<decltype(tensor)>, BasicTensor<T>>) {
          return tensor;
        } else {
          return tensor.template cast<T>();
        }
      },
      x.tensor()->tensor);
}

template <typename T>
T apply(Arithmetic op, T a, T b) {
  if constexpr (std::is_same_v<T, int32_t>) {
    // int32 wraps around as numpy's does (C++20 converts modulo 2^32).
    return static_cast<T>(apply<int64_t>(op, a, b));
  }
  switch (op) {
    case Arithmetic::kAdd:
      return a + b;
    case Arithmetic::kSubtract:
      return a - b;
    case Arithmetic::kMultiply:
      return a * b;
    case Arithmetic::kDivide:
      return a / b;
  }
  return a;
}

// x1 op x2 broadcast to `shape`, in T.
template <typename T>
BasicTensor<T> compute(Arithmetic op, const BasicTensor<T>& x1, const BasicTensor<T>& x2,
                       const Shape& shape) {
  const BasicTensor<T> a = broadcast_to(x1, shape), b = broadcast_to(x2, shape);
  BasicTensor<T> out(shape);
  for (int64_t i = 0; i < out.size(); ++i) out.data()[i] = apply(op, a.data()[i], b.data()[i]);
  return out;
}

// Add, Subtract, Multiply, Divide and TrueDivide of keras.src.ops.numpy.
class BinaryArithmetic : public KerasOp {
 public:
  BinaryArithmetic(std::string class_name, Arithmetic op, std::string name)
      : KerasOp(std::move(class_name), kNumpyOps, std::move(name)), op_(op) {}
  const std::vector<std::string>& call_parameters() const override { return kBinaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const Operand<KerasTensor> x1 = operand(arguments, "x1"), x2 = operand(arguments, "x2");
    const DType dtype = result_dtype(op_, x1, x2, source());
    const Shape none{};
    const Shape& a = x1.is_tensor() ? shape_of_operand(x1) : none;
    const Shape& b = x2.is_tensor() ? shape_of_operand(x2) : none;
    const std::optional<Shape> shape = broadcast_shapes(a, b);
    if (!shape) fail_broadcast(a, b);
    return {KerasTensor(*shape, dtype)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const Operand<ValuePtr> x1 = operand(arguments, "x1"), x2 = operand(arguments, "x2");
    if (result_dtype(op_, x1, x2, source()) == DType::kInt32) {
      const Int32Tensor a = operand_values<int32_t>(x1), b = operand_values<int32_t>(x2);
      return {make_value(compute(op_, a, b, output_shape(a.shape(), b.shape())))};
    }
    const Tensor a = operand_values<float>(x1), b = operand_values<float>(x2);
    return {make_value(compute(op_, a, b, output_shape(a.shape(), b.shape())))};
  }

  // d(x1 op x2): for Add d, d; Subtract d, -d; Multiply d * x2, d * x1; Divide d / x2,
  // -d * x1 / x2^2; each summed back over the axes its operand was broadcast along. Only
  // float32 tensor operands get one.
  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const Tensor* d_output = output_gradient(pass.d_outputs, 0);
    if (d_output == nullptr) return {};
    const Operand<ValuePtr> x1 = operand(arguments, "x1"), x2 = operand(arguments, "x2");
    const Tensor d = d_output->contiguous();
    const Shape& shape = d.shape();
    const Tensor a = broadcast_to(operand_values<float>(x1), shape);
    const Tensor b = broadcast_to(operand_values<float>(x2), shape);
    ValueGradients gradients;
    const auto add = [&](const Operand<ValuePtr>& x, const std::function<float(int64_t)>& local) {
      if (!x.is_tensor() || dtype_of_operand(x) != DType::kFloat32) return;
      Tensor full(shape);
      for (int64_t i = 0; i < full.size(); ++i) full.data()[i] = d.data()[i] * local(i);
      gradients.emplace_back(x.tensor(), sum_to_shape(full, shape_of_operand(x)));
    };
    const float* pa = a.data();
    const float* pb = b.data();
    switch (op_) {
      case Arithmetic::kAdd:
        add(x1, [](int64_t) { return 1.0F; });
        add(x2, [](int64_t) { return 1.0F; });
        break;
      case Arithmetic::kSubtract:
        add(x1, [](int64_t) { return 1.0F; });
        add(x2, [](int64_t) { return -1.0F; });
        break;
      case Arithmetic::kMultiply:
        add(x1, [pb](int64_t i) { return pb[i]; });
        add(x2, [pa](int64_t i) { return pa[i]; });
        break;
      case Arithmetic::kDivide:
        add(x1, [pb](int64_t i) { return 1.0F / pb[i]; });
        add(x2, [pa, pb](int64_t i) { return -pa[i] / (pb[i] * pb[i]); });
        break;
    }
    return gradients;
  }

 private:
  Shape output_shape(const Shape& a, const Shape& b) const {
    const std::optional<Shape> shape = broadcast_shapes(a, b);
    if (!shape) fail_broadcast(a, b);
    return *shape;
  }
  [[noreturn]] void fail_broadcast(const Shape& a, const Shape& b) const {
    throw_value_error(source(), "operands could not be broadcast together",
                      "shapes equal or 1 on each axis, aligned on the right",
                      "x1 of shape " + shape_to_string(a) + ", x2 of shape " + shape_to_string(b));
  }

  Arithmetic op_;
};

// An elementwise function of one tensor: `value` computes it, `derivative` its derivative
// from the input and the output.
struct UnaryFunction {
  float (*value)(float x);
  float (*derivative)(float x, float y);
  bool keeps_int;  // int32 in, int32 out (Negative, Absolute, Square); else float32 out
};

class ElementwiseFunction : public KerasOp {
 public:
  ElementwiseFunction(std::string class_name, UnaryFunction function, std::string name)
      : KerasOp(std::move(class_name), kNumpyOps, std::move(name)), function_(function) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    if (x.dtype() == DType::kBool) refuse_bool();
    const bool integer = x.dtype() == DType::kInt32 && function_.keeps_int;
    return {KerasTensor(x.shape(), integer ? DType::kInt32 : DType::kFloat32)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor& x = arguments.tensor("x")->tensor;
    if (dtype_of(x) == DType::kBool) refuse_bool();
    if (const auto* ids = std::get_if<Int32Tensor>(&x); ids != nullptr && function_.keeps_int) {
      const Int32Tensor in = ids->contiguous();
      Int32Tensor out(in.shape());
      for (int64_t i = 0; i < in.size(); ++i) {
        out.data()[i] = static_cast<int32_t>(function_.value(static_cast<float>(in.data()[i])));
      }
      return {make_value(std::move(out))};
    }
    const Tensor in = std::holds_alternative<Tensor>(x) ? std::get<Tensor>(x).contiguous()
                                                        : std::get<Int32Tensor>(x).cast<float>();
    Tensor out(in.shape());
    for (int64_t i = 0; i < in.size(); ++i) out.data()[i] = function_.value(in.data()[i]);
    return {make_value(std::move(out))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    const Tensor* d_output = output_gradient(pass.d_outputs, 0);
    if (d_output == nullptr || dtype_of(x->tensor) != DType::kFloat32) return {};
    const Tensor in = std::get<Tensor>(x->tensor).contiguous();
    const Tensor d = d_output->contiguous();
    Tensor gradient(in.shape());
    for (int64_t i = 0; i < in.size(); ++i) {
      const float v = in.data()[i];
      gradient.data()[i] = d.data()[i] * function_.derivative(v, function_.value(v));
    }
    return {{x, std::move(gradient)}};
  }

 private:
  [[noreturn]] void refuse_bool() const {
    throw NotSupportedError(error_message(source(), "unsupported dtype of `x`",
                                          "a float32 or int32 tensor", "a bool tensor"));
  }

  UnaryFunction function_;
};

const UnaryFunction kNegative{[](float x) { return -x; }, [](float, float) { return -1.0F; }, true};
// jnp.abs's gradient is sign(x): 0 at 0.
const UnaryFunction kAbsolute{[](float x) { return std::fabs(x); },
                              [](float x, float) { return x > 0 ? 1.0F : (x < 0 ? -1.0F : 0.0F); },
                              true};
const UnaryFunction kSquare{[](float x) { return x * x; }, [](float x, float) { return 2.0F * x; },
                            true};
const UnaryFunction kSqrt{[](float x) { return std::sqrt(x); },
                          [](float, float y) { return 0.5F / y; }, false};
const UnaryFunction kExp{[](float x) { return std::exp(x); }, [](float, float y) { return y; },
                         false};
const UnaryFunction kTanh{[](float x) { return std::tanh(x); },
                          [](float, float y) { return 1.0F - y * y; }, false};

struct BinaryClass {
  const char* class_name;
  const char* auto_name;
  Arithmetic op;
};

BinaryClass binary_class(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return {"Add", "add", Arithmetic::kAdd};
    case BinaryOp::kSubtract:
      return {"Subtract", "subtract", Arithmetic::kSubtract};
    case BinaryOp::kMultiply:
      return {"Multiply", "multiply", Arithmetic::kMultiply};
    case BinaryOp::kDivide:
      return {"Divide", "divide", Arithmetic::kDivide};
    case BinaryOp::kTrueDivide:
      return {"TrueDivide", "true_divide", Arithmetic::kDivide};
  }
  return {"Add", "add", Arithmetic::kAdd};
}

}  // namespace

KerasTensor symbolic_binary(BinaryOp op, NodeArg<KerasTensor> x1, NodeArg<KerasTensor> x2) {
  const BinaryClass kind = binary_class(op);
  NodeArguments<KerasTensor> args;
  args.args = {std::move(x1), std::move(x2)};
  return single_output(
      std::make_shared<BinaryArithmetic>(kind.class_name, kind.op, unique_name(kind.auto_name)),
      std::move(args));
}

KerasTensor symbolic_negative(const KerasTensor& x) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x)};
  return single_output(
      std::make_shared<ElementwiseFunction>("Negative", kNegative, unique_name("negative")),
      std::move(args));
}

std::vector<OperationEntry> arithmetic_operation_entries() {
  std::vector<OperationEntry> entries;
  for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSubtract, BinaryOp::kMultiply, BinaryOp::kDivide,
                      BinaryOp::kTrueDivide}) {
    const BinaryClass kind = binary_class(op);
    entries.push_back(named_op_entry(kind.class_name, kNumpyOps, [kind](std::string name) {
      return std::make_shared<BinaryArithmetic>(kind.class_name, kind.op, std::move(name));
    }));
  }
  for (const auto& unary : {std::pair{"Negative", kNegative}, std::pair{"Absolute", kAbsolute},
                            std::pair{"Square", kSquare}, std::pair{"Sqrt", kSqrt},
                            std::pair{"Exp", kExp}, std::pair{"Tanh", kTanh}}) {
    entries.push_back(named_op_entry(unary.first, kNumpyOps, [unary](std::string name) {
      return std::make_shared<ElementwiseFunction>(unary.first, unary.second, std::move(name));
    }));
  }
  return entries;
}

}  // namespace kattn::detail
