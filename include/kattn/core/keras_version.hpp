// A Keras release as metadata.json names it ("3.16.0"): the release whose behaviour a model
// follows where releases differ (docs/semantics.md, "Keras versions"). Models made in C++ and
// files without a version follow 3.16.0.
#pragma once

#include <compare>
#include <string>
#include <string_view>

namespace kattn {

struct KerasVersion {
  int major = 3;
  int minor = 16;
  int patch = 0;

  // "3.15.1" (a suffix after the patch number, "3.16.0.dev", is ignored); ValueError naming the
  // text when it does not start with three numbers.
  static KerasVersion parse(std::string_view text);
  // "3.16.0".
  std::string to_string() const;

  auto operator<=>(const KerasVersion&) const = default;
};

// The release kattn follows by default, and writes into the files it saves.
inline constexpr KerasVersion kKerasVersion{3, 16, 0};

}  // namespace kattn
