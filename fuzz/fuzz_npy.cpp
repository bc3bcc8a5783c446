// Bytes -> a .npy array. Parsed arrays must write and parse back.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "kattn/core/error.hpp"
#include "kattn/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kattn::NpyArray array;
  try {
    array = kattn::parse_npy(std::as_bytes(std::span(data, size)), "fuzz.npy");
  } catch (const kattn::FileError&) {
    return 0;
  }
  const std::string saved = std::visit([](const auto& a) { return kattn::to_npy_bytes(a); }, array);
  const kattn::NpyArray again =
      kattn::parse_npy(std::as_bytes(std::span(saved.data(), saved.size())), "resaved.npy");
  if (again.index() != array.index()) std::abort();
  return 0;
}
