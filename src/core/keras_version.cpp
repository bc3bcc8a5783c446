#include "kattn/core/keras_version.hpp"

#include <charconv>

#include "kattn/core/error.hpp"

namespace kattn {

KerasVersion KerasVersion::parse(std::string_view text) {
  KerasVersion version;
  const char* at = text.data();
  const char* end = text.data() + text.size();
  int* parts[] = {&version.major, &version.minor, &version.patch};
  for (size_t i = 0; i < 3; ++i) {
    const auto [next, error] = std::from_chars(at, end, *parts[i]);
    const bool separated = i == 2 || (next != end && *next == '.');
    if (error != std::errc() || !separated) {
      throw ValueError(
          "metadata.json: invalid keras_version. Expected a release such as "
          "3.16.0. Received: keras_version=" +
          std::string(text));
    }
    at = next + (i == 2 ? 0 : 1);
  }
  return version;
}

std::string KerasVersion::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace kattn
