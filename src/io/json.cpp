#include "kattn/io/json.hpp"

#include <string>

#include "kattn/core/error.hpp"

namespace kattn {

namespace {

[[noreturn]] void fail(std::string_view what, std::string_view problem) {
  throw FileError(std::string(what) + ": " + std::string(problem));
}

// The byte at which nesting first exceeds kMaxJsonDepth, or npos. Brackets inside strings do
// not count; a malformed document is left for the parser to report.
size_t too_deep_at(std::string_view bytes) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1,
// column 2: " prefix; the byte offset is reported separately.
std::string reason_of(const nlohmann::json::exception& error) {
  std::string text = error.what();
  const size_t at = text.find("parse error");
  if (at != std::string::npos) {
    const size_t colon = text.find(": ", at);
    if (colon != std::string::npos) return text.substr(colon + 2);
  }
  // Other exceptions: drop the "[json.exception.out_of_range.406] " tag.
  const size_t tag_end = text.find("] ");
  return text.starts_with("[json.exception.") && tag_end != std::string::npos
             ? text.substr(tag_end + 2)
             : text;
}

const char* type_phrase(const Config& value) {
  switch (value.type()) {
    case Config::value_t::array:
      return "an array";
    case Config::value_t::string:
      return "a string";
    case Config::value_t::boolean:
      return "a boolean";
    case Config::value_t::null:
      return "null";
    case Config::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

}  // namespace

Config parse_json(std::string_view bytes, std::string_view what) {
  const size_t deep = too_deep_at(bytes);
  if (deep != std::string_view::npos) {
    fail(what, "malformed JSON at byte " + std::to_string(deep) + ": nested more than " +
                   std::to_string(kMaxJsonDepth) + " levels deep");
  }
  try {
    return Config::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::parse_error& error) {
    // nlohmann counts bytes from 1; offsets here count from 0, like the depth check's.
    const size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    fail(what, "malformed JSON at byte " + std::to_string(offset) + ": " + reason_of(error));
  } catch (const nlohmann::json::exception& error) {
    // A number beyond double's range ("1e400") is out_of_range, which carries no offset.
    fail(what, "malformed JSON: " + reason_of(error));
  }
}

Config parse_json_object(std::string_view bytes, std::string_view what) {
  Config value = parse_json(bytes, what);
  if (!value.is_object()) {
    fail(what, std::string("expected a JSON object at the top level, found ") + type_phrase(value));
  }
  return value;
}

std::string to_json_text(const Config& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::strict);
}

}  // namespace kattn
