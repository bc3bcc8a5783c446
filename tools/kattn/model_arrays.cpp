#include "model_arrays.hpp"

#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/io/npy.hpp"

namespace kattn::cli {

AnyTensor read_model_input(const Model& model, size_t index, const std::filesystem::path& file) {
  const std::string name = model.input_names()[index];
  const DType expected = model.inputs()[index].dtype();
  const std::string takes = "input '" + name + "' takes " + std::string(dtype_name(expected)) +
                            " values; '" + file.string() + "' holds ";
  const NpyFile npy = read_npy_file(file);
  return std::visit(
      [&](const auto& array) -> AnyTensor {
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Int64Tensor>) {
          if (expected != DType::kInt32) throw ValueError(takes + "int64");
          std::vector<int32_t> narrowed;
          for (const int64_t id : array.to_vector()) {
            if (id < std::numeric_limits<int32_t>::min() ||
                id > std::numeric_limits<int32_t>::max()) {
              throw ValueError(takes + "int64 " + std::to_string(id) + ", beyond int32's range");
            }
            narrowed.push_back(static_cast<int32_t>(id));
          }
          return Int32Tensor(array.shape(), narrowed);
        } else {
          const AnyTensor input = array;
          if (dtype_of(input) != expected) throw ValueError(takes + npy.dtype);
          return input;
        }
      },
      npy.array);
}

std::string file_name_part(const std::string& name) {
  // A name becomes part of one file name in a folder, whatever it holds ('/', '..', NUL, ...);
  // a prefix keeps it from being "." or "..", and the length stays within what file systems
  // take (255 bytes).
  constexpr size_t kMaxNameBytes = 200;
  std::string part = name.substr(0, kMaxNameBytes);
  for (char& c : part) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_';
    if (!plain) c = '_';
  }
  return part;
}

std::string output_file_name(const Model& model, size_t index) {
  return "output_" + std::to_string(index) + "_" + file_name_part(model.output_names()[index]) +
         ".npy";
}

}  // namespace kattn::cli
