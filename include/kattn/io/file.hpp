// Whole-file reads and all-or-nothing writes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace kattn {

// The whole content of a regular file; FileError naming the path when it cannot be read, is
// not a regular file (a folder, a FIFO, a device such as /dev/zero), or holds more than
// `max_bytes`.
std::string read_file_bytes(const std::filesystem::path& path,
                            size_t max_bytes = std::numeric_limits<size_t>::max());

// A file to write: where, and what.
struct FileToWrite {
  std::filesystem::path path;
  std::string_view bytes;
};

// Writes every file of `files`, or none of them. Each file's bytes go first to a temporary
// file created exclusively beside it (a fresh name, never an existing file or link), and once
// every temporary file is complete they are renamed over their targets, with each folder
// locked against other kattn writers meanwhile: readers see old or new files, never partial
// ones, and several processes writing the same set into one folder leave one process's whole
// set. FileError naming the path and the reason (the system's, "No space left on device")
// when one cannot be written; then no target has changed.
void write_files_atomically(std::span<const FileToWrite> files);

// write_files_atomically for one file.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace kattn
