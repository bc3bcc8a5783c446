#include "core/node_inputs.hpp"

#include <string>

namespace kattn::detail {

namespace {

[[noreturn]] void wrong_dtype(DType actual, DType expected, ErrorSource source,
                              std::string_view argument) {
  throw_value_error(source, "wrong dtype for `" + std::string(argument) + "`",
                    "a " + std::string(dtype_name(expected)) + " tensor",
                    std::string(argument) + " of dtype " + std::string(dtype_name(actual)));
}

template <typename T>
const T& typed_input(const ModelValue& value, DType expected, ErrorSource source,
                     std::string_view argument) {
  const T* tensor = std::get_if<T>(&value.tensor);
  if (tensor == nullptr) wrong_dtype(dtype_of(value.tensor), expected, source, argument);
  return *tensor;
}

}  // namespace

Config shape_config(const Shape& shape) {
  Config list = Config::array();
  for (int64_t dim : shape) list.push_back(dim < 0 ? Config(nullptr) : Config(dim));
  return list;
}

const Tensor& float_input(const ModelValue& value, ErrorSource source, std::string_view argument) {
  return typed_input<Tensor>(value, DType::kFloat32, source, argument);
}

const Int32Tensor& int_input(const ModelValue& value, ErrorSource source,
                             std::string_view argument) {
  return typed_input<Int32Tensor>(value, DType::kInt32, source, argument);
}

const Mask& bool_input(const ModelValue& value, ErrorSource source, std::string_view argument) {
  return typed_input<Mask>(value, DType::kBool, source, argument);
}

void check_dtype(const KerasTensor& tensor, DType expected, ErrorSource source,
                 std::string_view argument) {
  if (tensor.dtype() != expected) wrong_dtype(tensor.dtype(), expected, source, argument);
}

void throw_foreign_operation_forward(ErrorSource source, bool has_saved) {
  throw_value_error(
      source, "`forward` was not made by this operation's forward_node()",
      "the OperationForward this operation's forward_node() returned",
      std::string("forward from ") + (has_saved ? "another operation" : "no forward_node() call"));
}

std::vector<Tensor> float_inputs(const std::vector<ValuePtr>& inputs, ErrorSource source) {
  std::vector<Tensor> tensors;
  for (const ValuePtr& input : inputs) tensors.push_back(float_input(*input, source, "inputs"));
  return tensors;
}

ListInputShapes float_input_shapes(const std::vector<KerasTensor>& inputs, ErrorSource source) {
  ListInputShapes result;
  Config shapes = Config::array();
  for (const KerasTensor& input : inputs) {
    check_dtype(input, DType::kFloat32, source, "inputs");
    result.shapes.push_back(input.shape());
    shapes.push_back(shape_config(input.shape()));
  }
  result.build_config = Config{{"input_shape", shapes}};
  return result;
}

std::optional<Mask> mask_argument(const std::optional<ValuePtr>& value, ErrorSource source,
                                  std::string_view argument) {
  if (!value) return std::nullopt;
  return bool_input(**value, source, argument);
}

}  // namespace kattn::detail
