#include "ops/nn_operations.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "core/node_inputs.hpp"
#include "kattn/ops/activations.hpp"
#include "kattn/ops/softmax.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kUnaryParameters{"x"};

// The call of a float32 function of one tensor whose backward reads its input and output.
class FloatFunction : public KerasOp {
 public:
  using KerasOp::KerasOp;
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    check_dtype(x, DType::kFloat32, source(), "x");
    check(x.shape());
    return {KerasTensor(x.shape(), DType::kFloat32)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const Tensor& x = float_input(*arguments.tensor("x"), source(), "x");
    check(x.shape());
    return {make_value(apply(x))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    const Tensor* d_output = output_gradient(pass.d_outputs, 0);
    if (d_output == nullptr) return {};
    const Tensor& in = float_input(*x, source(), "x");
    return {{x, gradient(in, apply(in), d_output->contiguous())}};
  }

 protected:
  virtual void check(const Shape& /*shape*/) const {}
  virtual Tensor apply(const Tensor& x) const = 0;
  virtual Tensor gradient(const Tensor& x, const Tensor& y, const Tensor& d) const = 0;
};

// ops.softmax(x, axis).
class SoftmaxOp : public FloatFunction {
 public:
  SoftmaxOp(std::string name, AxisArgument axis)
      : FloatFunction("Softmax", kNnOps, std::move(name)), axis_(std::move(axis)) {}
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_.to_config();
    return config;
  }

 protected:
  void check(const Shape& shape) const override { axes(shape); }
  Tensor apply(const Tensor& x) const override { return ops::softmax(x, axes(x.shape())); }
  Tensor gradient(const Tensor& x, const Tensor& y, const Tensor& d) const override {
    return ops::softmax_backward(y, d, axes(x.shape()));
  }

 private:
  std::vector<int64_t> axes(const Shape& shape) const {
    if (!axis_.axes) {
      throw_value_error(source(), "softmax needs an axis", "an int or a list of ints", "axis=None");
    }
    return axis_.resolve(static_cast<int64_t>(shape.size()), source());
  }

  AxisArgument axis_;
};

// ops.gelu(x, approximate): approximate = 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))),
// in float32 as Keras's numpy backend computes it; otherwise the activation's exact form.
class GeluOp : public FloatFunction {
 public:
  GeluOp(std::string name, bool approximate)
      : FloatFunction("Gelu", kNnOps, std::move(name)), approximate_(approximate) {}
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["approximate"] = approximate_;
    return config;
  }

 protected:
  Tensor apply(const Tensor& x) const override {
    Tensor y = x.clone();
    if (!approximate_) {
      ActivationFunction("gelu")(y);
      return y;
    }
    for (int64_t i = 0; i < y.size(); ++i) {
      const float v = y.data()[i];
      y.data()[i] = v * (0.5f * (1.0f + std::tanh(kSqrt2OverPi * (v + kCubic * (v * v * v)))));
    }
    return y;
  }
  Tensor gradient(const Tensor& x, const Tensor& y, const Tensor& d) const override {
    if (!approximate_) return ActivationFunction("gelu").backward(x.contiguous(), y, d);
    const Tensor in = x.contiguous();
    Tensor out = d.clone();
    for (int64_t i = 0; i < out.size(); ++i) {
      const float v = in.data()[i];
      const float t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
      const float inner = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
      out.data()[i] *= 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * inner;
    }
    return out;
  }

 private:
  static constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2 / pi)
  static constexpr float kCubic = 0.044715f;
  bool approximate_;
};

// ops.relu(x), ops.sigmoid(x): the activation of that name (kattn/ops/activations.hpp).
class ActivationOp : public FloatFunction {
 public:
  ActivationOp(std::string class_name, std::string name, std::string activation)
      : FloatFunction(std::move(class_name), kNnOps, std::move(name)),
        activation_(std::move(activation)) {}

 protected:
  Tensor apply(const Tensor& x) const override {
    Tensor y = x.clone();
    activation_(y);
    return y;
  }
  Tensor gradient(const Tensor& x, const Tensor& y, const Tensor& d) const override {
    return activation_.backward(x.contiguous(), y, d);
  }

 private:
  ActivationFunction activation_;
};

OperationEntry activation_entry(const std::string& class_name, const std::string& activation) {
  return named_op_entry(class_name, kNnOps, [class_name, activation](std::string name) {
    return std::make_shared<ActivationOp>(class_name, std::move(name), activation);
  });
}

}  // namespace

KerasTensor symbolic_softmax(const KerasTensor& x, std::vector<int64_t> axis) {
  AxisArgument argument{std::move(axis), false};
  argument.is_int = argument.axes->size() == 1;
  return unary_output(std::make_shared<SoftmaxOp>(unique_name("softmax"), argument), x);
}

KerasTensor symbolic_gelu(const KerasTensor& x, bool approximate) {
  return unary_output(std::make_shared<GeluOp>(unique_name("gelu"), approximate), x);
}

std::vector<OperationEntry> nn_operation_entries() {
  return {OperationEntry{"Softmax", kNnOps,
                         [](const Config& config) -> std::shared_ptr<Operation> {
                           AxisArgument axis;
                           const std::string name =
                               read_op_config(config, "Softmax", [&](ConfigReader& reader) {
                                 axis = AxisArgument::read(reader, "axis");
                                 if (!axis.axes) reader.fail("axis", "an int or a list of ints");
                               });
                           return std::make_shared<SoftmaxOp>(name, axis);
                         }},
          OperationEntry{"Gelu", kNnOps,
                         [](const Config& config) -> std::shared_ptr<Operation> {
                           bool approximate = true;
                           const std::string name =
                               read_op_config(config, "Gelu", [&](ConfigReader& reader) {
                                 approximate = reader.get_bool("approximate", true);
                               });
                           return std::make_shared<GeluOp>(name, approximate);
                         }},
          activation_entry("Relu", "relu"), activation_entry("Sigmoid", "sigmoid")};
}

}  // namespace kattn::detail
