// JSON documents read from bytes (config.json, metadata.json), with errors that name the source
// and the byte where parsing stopped.
#pragma once

#include <string_view>

#include "kattn/core/config.hpp"

namespace kattn {

// Deepest nesting of arrays and objects accepted. Keras configs nest about ten levels; the
// limit keeps hostile input from exhausting the stack of recursive JSON code (copy, dump).
inline constexpr int kMaxJsonDepth = 256;

// Parses `bytes` as one JSON value (UTF-8, no comments, nothing after it but whitespace).
// FileError "<what>: malformed JSON at byte <offset>: <reason>" (offsets from 0) when it is not;
// `what` names the source, e.g. "zip archive 'model.keras': member 'config.json'".
Config parse_json(std::string_view bytes, std::string_view what);

// parse_json, and the value must be a JSON object:
// "<what>: expected a JSON object at the top level, found an array".
Config parse_json_object(std::string_view bytes, std::string_view what);

// The text Keras would read back: compact, non-ASCII characters escaped as \uXXXX (as Python's
// json.dumps does by default). Keys come out sorted (Config does not keep their order).
std::string to_json_text(const Config& value);

}  // namespace kattn
