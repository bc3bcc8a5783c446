// Text for messages and summaries about models.
#pragma once

#include <string>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// A Keras shape as Python prints it, None for -1: "(None, None, 8)", "(None,)".
std::string python_shape(const Shape& shape);

// The items separated by ", ".
std::string join(const std::vector<std::string>& items);

}  // namespace kattn::detail
