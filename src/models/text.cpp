#include "models/text.hpp"

namespace kattn::detail {

std::string python_shape(const Shape& shape) {
  std::vector<std::string> dims;
  for (int64_t dim : shape) dims.push_back(dim < 0 ? "None" : std::to_string(dim));
  std::string text = "(";
  text += join(dims);
  text += shape.size() == 1 ? ",)" : ")";
  return text;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

}  // namespace kattn::detail
