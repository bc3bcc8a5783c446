// NumPy .npy files (format versions 1.0, 2.0 and 3.0, C order, little-endian).
//
// Read: float32, float64 (cast to float32), bool, int32, int64. Write: float32, bool, int32,
// int64, always version 1.0 as numpy.save writes it. Malformed or truncated input raises
// FileError naming the file and what is wrong.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "kattn/core/tensor.hpp"

namespace kattn {

// A loaded array in the type it was stored as (float64 arrives as float32 Tensor).
using NpyArray = std::variant<Tensor, Mask, Int32Tensor, Int64Tensor>;

// Parses the bytes of a .npy file; `what` names the source in error messages (a path, or an
// archive member).
NpyArray parse_npy(std::span<const std::byte> bytes, std::string_view what);

NpyArray read_npy(const std::filesystem::path& path);

// An array with the numpy dtype it was stored as ("float64", "int32", "bool", ...).
struct NpyFile {
  NpyArray array;
  std::string dtype;
};
NpyFile parse_npy_file(std::span<const std::byte> bytes, std::string_view what);
NpyFile read_npy_file(const std::filesystem::path& path);
// The array at `path`, which must hold float32 or float64 values.
Tensor read_npy_tensor(const std::filesystem::path& path);
// The array at `path`, which must hold bool values.
Mask read_npy_mask(const std::filesystem::path& path);

// The bytes numpy.save would write for the array (non-contiguous tensors are written in order).
std::string to_npy_bytes(const Tensor& array);
std::string to_npy_bytes(const Mask& array);
std::string to_npy_bytes(const Int32Tensor& array);
std::string to_npy_bytes(const Int64Tensor& array);

// Writes through a temporary file renamed into place: no partial file is ever left at `path`.
void write_npy(const std::filesystem::path& path, const Tensor& array);
void write_npy(const std::filesystem::path& path, const Mask& array);
void write_npy(const std::filesystem::path& path, const Int32Tensor& array);
void write_npy(const std::filesystem::path& path, const Int64Tensor& array);

}  // namespace kattn
