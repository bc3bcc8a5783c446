#include "kattn/core/error.hpp"

namespace kattn {

std::string error_message(ErrorSource source, std::string_view what, std::string_view expected,
                          std::string_view received) {
  std::string message;
  message.append(source.class_name);
  if (!source.name.empty()) {
    message.append(" '").append(source.name).append("'");
  }
  message.append(": ").append(what).append(". Expected ").append(expected);
  message.append(". Received: ").append(received).append(".");
  return message;
}

void throw_value_error(ErrorSource source, std::string_view what, std::string_view expected,
                       std::string_view received) {
  throw ValueError(error_message(source, what, expected, received));
}

}  // namespace kattn
