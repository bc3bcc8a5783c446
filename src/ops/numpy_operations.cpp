#include "ops/numpy_operations.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>

#include "core/broadcast.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kUnaryParameters{"x"};
const std::vector<std::string> kBinaryParameters{"x1", "x2"};

// A scalar literal as a double; ValueError for anything else.
double scalar_of(const Config& literal, ErrorSource source) {
  if (literal.is_boolean()) return literal.get<bool>() ? 1.0 : 0.0;
  if (!literal.is_number()) {
    throw_value_error(source, "invalid call argument `x2`", "a tensor or a number",
                      "x2=" + literal.dump());
  }
  return literal.get<double>();
}

// numpy.not_equal of a tensor and a scalar or a tensor of the same shape.
class NotEqual : public KerasOp {
 public:
  explicit NotEqual(std::string name) : KerasOp("NotEqual", kNumpyOps, std::move(name)) {}
  const std::vector<std::string>& call_parameters() const override { return kBinaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x1 = arguments.tensor("x1");
    if (second_is_tensor(arguments)) {
      check_same_shape(x1.shape(), arguments.tensor("x2").shape());
    } else {
      scalar_of(literal(arguments), source());
    }
    return {KerasTensor(x1.shape(), DType::kBool)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor& x1 = arguments.tensor("x1")->tensor;
    const std::vector<double> a = as_doubles(x1);
    std::vector<double> b;
    if (second_is_tensor(arguments)) {
      const AnyTensor& x2 = arguments.tensor("x2")->tensor;
      check_same_shape(shape_of(x1), shape_of(x2));
      b = as_doubles(x2);
    } else {
      b.assign(a.size(), scalar_of(literal(arguments), source()));
    }
    Mask out(shape_of(x1));
    bool* dst = out.data();
    for (size_t i = 0; i < a.size(); ++i) dst[i] = a[i] != b[i];
    return {make_value(std::move(out))};
  }

 private:
  template <typename Leaf>
  static bool second_is_tensor(const BoundArguments<Leaf>& arguments) {
    const NodeArg<Leaf>* arg = arguments.find("x2");
    return arg != nullptr && arg->is_tensor();
  }
  template <typename Leaf>
  static const Config& literal(const BoundArguments<Leaf>& arguments) {
    static const Config kNull = nullptr;
    const NodeArg<Leaf>* arg = arguments.find("x2");
    if (arg == nullptr) return kNull;
    const Config* value = std::get_if<Config>(&arg->value);
    return value == nullptr ? kNull : *value;
  }
  void check_same_shape(const Shape& a, const Shape& b) const {
    if (a != b) {
      throw_value_error(source(), "operands of different shapes",
                        "x2 of shape " + shape_to_string(a) + " or a number",
                        "x2 of shape " + shape_to_string(b));
    }
  }
};

// numpy.logical_or of two bool tensors, broadcast as numpy broadcasts them.
class LogicalOr : public KerasOp {
 public:
  explicit LogicalOr(std::string name) : KerasOp("LogicalOr", kNumpyOps, std::move(name)) {}
  const std::vector<std::string>& call_parameters() const override { return kBinaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x1 = arguments.tensor("x1");
    const KerasTensor& x2 = arguments.tensor("x2");
    check_dtype(x1, DType::kBool, source(), "x1");
    check_dtype(x2, DType::kBool, source(), "x2");
    return {KerasTensor(broadcast(x1.shape(), x2.shape()), DType::kBool)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const Mask& a = bool_input(*arguments.tensor("x1"), source(), "x1");
    const Mask& b = bool_input(*arguments.tensor("x2"), source(), "x2");
    const Shape shape = broadcast(a.shape(), b.shape());
    const Mask wide_a = broadcast_to(a, shape), wide_b = broadcast_to(b, shape);
    Mask out(shape);
    for (int64_t i = 0; i < out.size(); ++i) {
      out.data()[i] = wide_a.data()[i] || wide_b.data()[i];
    }
    return {make_value(std::move(out))};
  }

 private:
  Shape broadcast(const Shape& a, const Shape& b) const {
    const std::optional<Shape> shape = broadcast_shapes(a, b);
    if (!shape) {
      throw_value_error(source(), "operands that do not broadcast together",
                        "x2 broadcastable with x1 of shape " + shape_to_string(a),
                        "x2 of shape " + shape_to_string(b));
    }
    return *shape;
  }
};

// keras.ops.convert_to_tensor without a dtype: the identity.
class ConvertToTensor : public KerasOp {
 public:
  explicit ConvertToTensor(std::string name)
      : KerasOp("ConvertToTensor", kCoreOps, std::move(name)) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["dtype"] = nullptr;
    config["sparse"] = nullptr;
    config["ragged"] = nullptr;
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    return {KerasTensor(x.shape(), x.dtype())};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    return {make_value(arguments.tensor("x")->tensor)};
  }

  // The identity: a float32 input gets the output's gradient.
  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    if (pass.d_outputs.empty() || !pass.d_outputs[0] || dtype_of(x->tensor) != DType::kFloat32)
      return {};
    return {{x, pass.d_outputs[0]->clone()}};
  }
};

// keras.ops.cast(x, dtype) to float32, int32 or bool: floats to int32 truncated toward zero
// (numpy's and jax's astype), anything to bool as x != 0. A float32 -> float32 cast passes the
// gradient on; other casts stop it.
class Cast : public KerasOp {
 public:
  Cast(std::string name, DType dtype) : KerasOp("Cast", kCoreOps, std::move(name)), dtype_(dtype) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["dtype"] = dtype_name(dtype_);
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    return {KerasTensor(arguments.tensor("x").shape(), dtype_)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    return {make_value(
        std::visit([&](const auto& x) { return convert(x); }, arguments.tensor("x")->tensor))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    if (pass.d_outputs.empty() || !pass.d_outputs[0] || dtype_ != DType::kFloat32 ||
        dtype_of(x->tensor) != DType::kFloat32) {
      return {};
    }
    return {{x, pass.d_outputs[0]->clone()}};
  }

 private:
  template <typename T>
  AnyTensor convert(const BasicTensor<T>& x) const {
    switch (dtype_) {
      case DType::kFloat32:
        return x.template cast<float>();
      case DType::kInt32: {
        const BasicTensor<T> in = x.contiguous();
        Int32Tensor out(in.shape());
        for (int64_t i = 0; i < in.size(); ++i) {
          const double value = static_cast<double>(in.data()[i]);
          if (!(value > -2147483649.0 && value < 2147483648.0)) {
            throw_value_error(source(), "a value cast to int32 out of range",
                              "finite values within int32's range",
                              "a value of " + std::to_string(value));
          }
          out.data()[i] = static_cast<int32_t>(value);
        }
        return out;
      }
      case DType::kBool: {
        const BasicTensor<T> in = x.contiguous();
        Mask out(in.shape());
        for (int64_t i = 0; i < in.size(); ++i) out.data()[i] = in.data()[i] != T{0};
        return out;
      }
    }
    return x.template cast<float>();
  }

  DType dtype_;
};

// Checks `axis` against a rank for inserting (ExpandDims) or reducing (Any) an axis.
int64_t resolve_axis(int64_t axis, int64_t rank, ErrorSource source) {
  if (axis < -rank || axis >= rank) {
    throw_value_error(source, "axis out of range",
                      "an axis in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
                      "axis=" + std::to_string(axis));
  }
  return axis < 0 ? axis + rank : axis;
}

// numpy.expand_dims(x, axis).
class ExpandDims : public KerasOp {
 public:
  ExpandDims(std::string name, int64_t axis)
      : KerasOp("ExpandDims", kNumpyOps, std::move(name)), axis_(axis) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_;
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    Shape shape = x.shape();
    const int64_t axis = resolve_axis(axis_, x.rank() + 1, source());
    shape.insert(shape.begin() + axis, 1);
    return {KerasTensor(shape, x.dtype())};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor& x = arguments.tensor("x")->tensor;
    const int64_t axis =
        resolve_axis(axis_, static_cast<int64_t>(shape_of(x).size()) + 1, source());
    return {
        make_value(std::visit([&](const auto& t) { return AnyTensor(t.expand_dims(axis)); }, x))};
  }

  // A reshape: a float32 input gets the output's gradient without the inserted axis.
  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    if (pass.d_outputs.empty() || !pass.d_outputs[0] || dtype_of(x->tensor) != DType::kFloat32)
      return {};
    return {{x, pass.d_outputs[0]->clone().reshape(shape_of(x->tensor))}};
  }

 private:
  int64_t axis_;
};

// numpy.any(x, axis) of a bool tensor, without keepdims.
class Any : public KerasOp {
 public:
  Any(std::string name, int64_t axis) : KerasOp("Any", kNumpyOps, std::move(name)), axis_(axis) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_;
    config["keepdims"] = false;
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    check_dtype(x, DType::kBool, source(), "x");
    Shape shape = x.shape();
    shape.erase(shape.begin() + resolve_axis(axis_, x.rank(), source()));
    return {KerasTensor(shape, DType::kBool)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const Mask x = bool_input(*arguments.tensor("x"), source(), "x").contiguous();
    const int64_t axis = resolve_axis(axis_, x.rank(), source());
    Shape shape = x.shape();
    const int64_t length = shape[static_cast<size_t>(axis)];
    shape.erase(shape.begin() + axis);
    int64_t inner = 1;
    for (size_t a = static_cast<size_t>(axis); a < shape.size(); ++a) inner *= shape[a];
    Mask out(shape);
    const int64_t outer = out.size() / std::max<int64_t>(inner, 1);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        bool any = false;
        for (int64_t l = 0; l < length; ++l) any = any || x.data()[(o * length + l) * inner + i];
        out.data()[o * inner + i] = any;
      }
    }
    return {make_value(std::move(out))};
  }

 private:
  int64_t axis_;
};

// numpy.zeros_like(x, dtype) and numpy.ones_like(x, dtype): x's shape filled with 0 or 1, of
// `dtype` (x's when null). What Keras's Concatenate records for an input without a mask.
class FilledLike : public KerasOp {
 public:
  FilledLike(std::string class_name, std::string name, std::optional<DType> dtype)
      : KerasOp(class_name, kNumpyOps, std::move(name)),
        dtype_(dtype),
        value_(class_name == "OnesLike" ? 1 : 0) {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["dtype"] = dtype_ ? Config(std::string(dtype_name(*dtype_))) : Config(nullptr);
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    return {KerasTensor(x.shape(), dtype_.value_or(x.dtype()))};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor& x = arguments.tensor("x")->tensor;
    const Shape& shape = shape_of(x);
    switch (dtype_.value_or(dtype_of(x))) {
      case DType::kFloat32:
        return {make_value(Tensor::full(shape, static_cast<float>(value_)))};
      case DType::kInt32:
        return {make_value(Int32Tensor::full(shape, value_))};
      case DType::kBool:
        return {make_value(Mask::full(shape, value_ != 0))};
    }
    return {};
  }

 private:
  std::optional<DType> dtype_;
  int32_t value_;
};

// `parts` joined along `axis` into a tensor of `shape` (their shapes agree but for the axis).
template <typename T>
BasicTensor<T> join_along(const std::vector<BasicTensor<T>>& parts, const Shape& shape,
                          size_t axis) {
  int64_t outer = 1, inner = 1;
  for (size_t a = 0; a < axis; ++a) outer *= shape[a];
  for (size_t a = axis + 1; a < shape.size(); ++a) inner *= shape[a];
  BasicTensor<T> out(shape);
  T* dst = out.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (const BasicTensor<T>& part : parts) {
      const int64_t run = part.dim(static_cast<int64_t>(axis)) * inner;
      std::copy_n(part.data() + o * run, run, dst);
      dst += run;
    }
  }
  return out;
}

// numpy.concatenate(xs, axis): tensors of one dtype, equal but for `axis`.
class ConcatenateOp : public KerasOp {
 public:
  ConcatenateOp(std::string name, int64_t axis)
      : KerasOp("Concatenate", kNumpyOps, std::move(name)), axis_(axis) {}
  const std::vector<std::string>& call_parameters() const override { return kParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_;
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    std::vector<Shape> shapes;
    std::vector<DType> dtypes;
    for (const std::optional<KerasTensor>& x : arguments.tensor_list("xs")) {
      if (!x) throw_value_error(source(), "invalid call argument `xs`", "tensors", "None");
      shapes.push_back(x->shape());
      dtypes.push_back(x->dtype());
    }
    check_dtypes(dtypes);
    return {KerasTensor(joined_shape(shapes), dtypes.front())};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    std::vector<const AnyTensor*> xs;
    std::vector<Shape> shapes;
    std::vector<DType> dtypes;
    for (const std::optional<ValuePtr>& x : arguments.tensor_list("xs")) {
      if (!x) throw_value_error(source(), "invalid call argument `xs`", "tensors", "None");
      xs.push_back(&(*x)->tensor);
      shapes.push_back(shape_of((*x)->tensor));
      dtypes.push_back(dtype_of((*x)->tensor));
    }
    check_dtypes(dtypes);
    const Shape shape = joined_shape(shapes);
    return {make_value(std::visit(
        [&](const auto& first) -> AnyTensor {
          using T = std::decay_t<decltype(first)>;
          std::vector<T> parts;
          for (const AnyTensor* x : xs) parts.push_back(std::get<T>(*x).contiguous());
          const auto axis = static_cast<size_t>(
              resolve_axis(axis_, static_cast<int64_t>(shape.size()), source()));
          return join_along(parts, shape, axis);
        },
        *xs.front()))};
  }

 private:
  inline static const std::vector<std::string> kParameters{"xs"};

  void check_dtypes(const std::vector<DType>& dtypes) const {
    if (dtypes.empty()) {
      throw_value_error(source(), "invalid call argument `xs`", "at least one tensor",
                        "an empty list");
    }
    for (DType dtype : dtypes) {
      if (dtype != dtypes.front()) {
        throw NotSupportedError(
            error_message(source(), "tensors of different dtypes",
                          "xs all " + std::string(dtype_name(dtypes.front())),
                          "a tensor of dtype " + std::string(dtype_name(dtype))));
      }
    }
  }

  // The shape of the join; ValueError unless the shapes agree but for the axis.
  Shape joined_shape(const std::vector<Shape>& shapes) const {
    const auto rank = static_cast<int64_t>(shapes.front().size());
    const auto axis = static_cast<size_t>(resolve_axis(axis_, rank, source()));
    Shape shape = shapes.front();
    shape[axis] = 0;
    for (const Shape& other : shapes) {
      Shape expected = shape;
      expected[axis] = other.size() == shape.size() ? other[axis] : 0;
      if (other != expected) {
        throw_value_error(
            source(), "tensors that do not join along axis " + std::to_string(axis_),
            "shapes equal to " + shape_to_string(shapes.front()) + " but along the axis",
            "shape " + shape_to_string(other));
      }
      shape[axis] = shape[axis] < 0 || other[axis] < 0 ? -1 : shape[axis] + other[axis];
    }
    return shape;
  }

  int64_t axis_;
};

// ConvertToTensor's `dtype`, `sparse` and `ragged`: only the identity conversion is supported.
void read_identity_conversion(ConfigReader& reader) {
  const Config dtype = reader.get("dtype", nullptr);
  if (!dtype.is_null()) {
    throw NotSupportedError(error_message(reader.source(), "unsupported argument", "dtype=None",
                                          "dtype=" + dtype.dump()));
  }
  for (const char* key : {"sparse", "ragged"}) {
    const Config flag = reader.get(key, nullptr);
    if (!flag.is_null() && flag != false) {
      throw NotSupportedError(error_message(reader.source(), "unsupported argument",
                                            std::string(key) + "=None",
                                            std::string(key) + "=" + flag.dump()));
    }
  }
}

template <typename Op>
OperationEntry axis_op_entry(std::string class_name, bool keepdims_key) {
  return OperationEntry{
      class_name, kNumpyOps,
      [class_name, keepdims_key](const Config& config) -> std::shared_ptr<Operation> {
        int64_t axis = 0;
        const std::string name = read_op_config(config, class_name, [&](ConfigReader& reader) {
          axis = reader.get_int("axis", 0);
          if (keepdims_key && reader.get_bool("keepdims", false)) {
            throw NotSupportedError(error_message(reader.source(), "unsupported argument",
                                                  "keepdims=False", "keepdims=True"));
          }
        });
        return std::make_shared<Op>(name, axis);
      }};
}

OperationEntry filled_like_entry(std::string class_name) {
  return OperationEntry{
      class_name, kNumpyOps, [class_name](const Config& config) -> std::shared_ptr<Operation> {
        std::optional<DType> dtype;
        const std::string name = read_op_config(config, class_name, [&](ConfigReader& reader) {
          const Config text = reader.get("dtype", nullptr);
          if (text.is_null()) return;
          dtype = text.is_string() ? dtype_from_name(text.get<std::string>()) : std::nullopt;
          if (!dtype) {
            throw NotSupportedError(error_message(reader.source(), "unsupported dtype",
                                                  "float32, int32, bool or None",
                                                  "dtype=" + text.dump()));
          }
        });
        return std::make_shared<FilledLike>(class_name, name, dtype);
      }};
}

OperationEntry cast_entry() {
  return OperationEntry{
      "Cast", kCoreOps, [](const Config& config) -> std::shared_ptr<Operation> {
        DType dtype = DType::kFloat32;
        const std::string name = read_op_config(config, "Cast", [&](ConfigReader& reader) {
          const std::string dtype_text = reader.get_string("dtype", "float32");
          const std::optional<DType> parsed = dtype_from_name(dtype_text);
          if (!parsed) {
            throw NotSupportedError(error_message(reader.source(), "unsupported dtype",
                                                  "float32, int32 or bool", "dtype=" + dtype_text));
          }
          dtype = *parsed;
        });
        return std::make_shared<Cast>(name, dtype);
      }};
}

}  // namespace

KerasTensor symbolic_not_equal(const KerasTensor& x, const Config& scalar) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x), NodeArg<KerasTensor>::literal(scalar)};
  return single_output(std::make_shared<NotEqual>(unique_name("not_equal")), std::move(args));
}

KerasTensor symbolic_logical_or(const KerasTensor& a, const KerasTensor& b) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(a), NodeArg<KerasTensor>::tensor(b)};
  return single_output(std::make_shared<LogicalOr>(unique_name("logical_or")), std::move(args));
}

KerasTensor symbolic_convert_to_tensor(const KerasTensor& x) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x)};
  return single_output(std::make_shared<ConvertToTensor>(unique_name("convert_to_tensor")),
                       std::move(args));
}

KerasTensor symbolic_any(const KerasTensor& x, int64_t axis) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x)};
  return single_output(std::make_shared<Any>(unique_name("any"), axis), std::move(args));
}

KerasTensor symbolic_expand_dims(const KerasTensor& x, int64_t axis) {
  return unary_output(std::make_shared<ExpandDims>(unique_name("expand_dims"), axis), x);
}

KerasTensor symbolic_cast(const KerasTensor& x, DType dtype) {
  return unary_output(std::make_shared<Cast>(unique_name("cast"), dtype), x);
}

std::vector<OperationEntry> numpy_operation_entries() {
  return {op_entry<NotEqual>("NotEqual", kNumpyOps),
          op_entry<LogicalOr>("LogicalOr", kNumpyOps),
          op_entry<ConvertToTensor>("ConvertToTensor", kCoreOps, read_identity_conversion),
          axis_op_entry<ExpandDims>("ExpandDims", false),
          axis_op_entry<Any>("Any", true),
          axis_op_entry<ConcatenateOp>("Concatenate", false),
          filled_like_entry("ZerosLike"),
          filled_like_entry("OnesLike"),
          cast_entry()};
}

}  // namespace kattn::detail
