// Whole-file reads and all-or-nothing writes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kattn {

// The whole content of a file; FileError naming the path when it cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);

// Writes `bytes` to a temporary file beside `path`, then renames it into place, so `path` is
// either the old file or the complete new one; FileError naming the path when it cannot.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace kattn
