#include "ops/reduction_operations.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "core/axis_groups.hpp"
#include "core/node_inputs.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kUnaryParameters{"x"};

class Reduction : public KerasOp {
 public:
  Reduction(std::string class_name, std::string name, AxisArgument axis, bool keepdims)
      : KerasOp(class_name, kNumpyOps, std::move(name)),
        axis_(std::move(axis)),
        keepdims_(keepdims),
        mean_(class_name == "Mean") {}
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_.to_config();
    config["keepdims"] = keepdims_;
    return config;
  }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    return {KerasTensor(output_shape(x.shape()), output_dtype(x.dtype()))};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor& x = arguments.tensor("x")->tensor;
    const Shape shape = shape_of(x);
    const AxisGroups groups = axis_groups(shape, axes(shape));
    const std::vector<double> values = as_doubles(x);
    std::vector<double> sums;
    for (const int64_t o : groups.outer) {
      double sum = 0.0;
      for (const int64_t i : groups.inner) sum += values[static_cast<size_t>(o + i)];
      sums.push_back(mean_ ? sum / static_cast<double>(groups.inner.size()) : sum);
    }
    const Shape out_shape = output_shape(shape);
    if (output_dtype(dtype_of(x)) == DType::kInt32) {
      Int32Tensor out(out_shape);
      for (size_t j = 0; j < sums.size(); ++j) out.data()[j] = static_cast<int32_t>(sums[j]);
      return {make_value(std::move(out))};
    }
    Tensor out(out_shape);
    for (size_t j = 0; j < sums.size(); ++j) out.data()[j] = static_cast<float>(sums[j]);
    return {make_value(std::move(out))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    const Tensor* d_output = output_gradient(pass.d_outputs, 0);
    if (d_output == nullptr || dtype_of(x->tensor) != DType::kFloat32) return {};
    const Shape shape = shape_of(x->tensor);
    const AxisGroups groups = axis_groups(shape, axes(shape));
    const Tensor d = d_output->contiguous();
    const float scale = mean_ ? 1.0f / static_cast<float>(groups.inner.size()) : 1.0f;
    Tensor gradient(shape);
    for (size_t j = 0; j < groups.outer.size(); ++j) {
      for (const int64_t i : groups.inner) {
        gradient.data()[groups.outer[j] + i] = d.data()[j] * scale;
      }
    }
    return {{x, std::move(gradient)}};
  }

 private:
  // The reduced axes: the given ones, or every axis.
  std::vector<int64_t> axes(const Shape& shape) const {
    const auto rank = static_cast<int64_t>(shape.size());
    if (axis_.axes) return axis_.resolve(rank, source());
    std::vector<int64_t> all;
    for (int64_t a = 0; a < rank; ++a) all.push_back(a);
    return all;
  }
  Shape output_shape(const Shape& shape) const {
    const std::vector<int64_t> reduced = axes(shape);
    Shape out;
    for (size_t a = 0; a < shape.size(); ++a) {
      if (std::find(reduced.begin(), reduced.end(), static_cast<int64_t>(a)) == reduced.end()) {
        out.push_back(shape[a]);
      } else if (keepdims_) {
        out.push_back(1);
      }
    }
    return out;
  }
  DType output_dtype(DType input) const {
    if (mean_) return DType::kFloat32;
    return input == DType::kFloat32 ? DType::kFloat32 : DType::kInt32;
  }

  AxisArgument axis_;
  bool keepdims_;
  bool mean_;
};

OperationEntry reduction_entry(const std::string& class_name) {
  return OperationEntry{
      class_name, kNumpyOps, [class_name](const Config& config) -> std::shared_ptr<Operation> {
        AxisArgument axis;
        bool keepdims = false;
        const std::string name = read_op_config(config, class_name, [&](ConfigReader& reader) {
          axis = AxisArgument::read(reader, "axis");
          keepdims = reader.get_bool("keepdims", false);
        });
        return std::make_shared<Reduction>(class_name, name, axis, keepdims);
      }};
}

KerasTensor reduce(const std::string& class_name, const std::string& auto_name,
                   const KerasTensor& x, std::optional<std::vector<int64_t>> axis, bool keepdims) {
  AxisArgument argument{std::move(axis), false};
  argument.is_int = argument.axes && argument.axes->size() == 1;
  return unary_output(
      std::make_shared<Reduction>(class_name, unique_name(auto_name), argument, keepdims), x);
}

}  // namespace

KerasTensor symbolic_mean(const KerasTensor& x, std::optional<std::vector<int64_t>> axis,
                          bool keepdims) {
  return reduce("Mean", "mean", x, std::move(axis), keepdims);
}

KerasTensor symbolic_sum(const KerasTensor& x, std::optional<std::vector<int64_t>> axis,
                         bool keepdims) {
  return reduce("Sum", "sum", x, std::move(axis), keepdims);
}

std::vector<OperationEntry> reduction_operation_entries() {
  return {reduction_entry("Mean"), reduction_entry("Sum")};
}

}  // namespace kattn::detail
