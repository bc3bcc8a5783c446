// Errors kattn raises. Every message follows Keras's pattern:
//   <Class> '<name>': <what is wrong>. Expected <constraint>. Received: <arg>=<value>.
// and is produced before any kernel runs.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kattn {

// Base of every exception kattn throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An argument, shape, mask or config value a caller got wrong (Keras's ValueError).
class ValueError : public Error {
 public:
  using Error::Error;
};

// A Keras feature, class, argument or dtype that kattn does not implement; refused by name.
class NotSupportedError : public Error {
 public:
  using Error::Error;
};

// A file that cannot be read or written, or whose content is malformed; names the path and,
// inside an archive, the member.
class FileError : public Error {
 public:
  using Error::Error;
};

// Who raised an error: a layer's Keras class and name, e.g. {"Attention", "luong"}.
struct ErrorSource {
  std::string_view class_name;
  std::string_view name;
};

// "<Class> '<name>': <what>. Expected <expected>. Received: <received>."
std::string error_message(ErrorSource source, std::string_view what, std::string_view expected,
                          std::string_view received);

[[noreturn]] void throw_value_error(ErrorSource source, std::string_view what,
                                    std::string_view expected, std::string_view received);

}  // namespace kattn
