#include "kattn/core/value.hpp"

namespace kattn {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kInt32:
      return "int32";
    case DType::kBool:
      return "bool";
  }
  return "float32";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  if (name == "float32") return DType::kFloat32;
  if (name == "int32") return DType::kInt32;
  if (name == "bool") return DType::kBool;
  return std::nullopt;
}

DType dtype_of(const AnyTensor& tensor) {
  if (std::holds_alternative<Tensor>(tensor)) return DType::kFloat32;
  if (std::holds_alternative<Int32Tensor>(tensor)) return DType::kInt32;
  return DType::kBool;
}

const Shape& shape_of(const AnyTensor& tensor) {
  return std::visit([](const auto& t) -> const Shape& { return t.shape(); }, tensor);
}

}  // namespace kattn
