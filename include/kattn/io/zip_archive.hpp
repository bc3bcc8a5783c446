// Zip archives (the container of a .keras file): read members from a file or from memory, and
// write a whole archive at once.
//
// Reading refuses absurd member sizes before allocating anything: a member larger than
// ZipLimits::max_member_bytes, or one whose declared size is more than
// ZipLimits::max_compression_ratio times its compressed size (a "zip bomb"). Every failure is a
// FileError naming the archive and, where there is one, the member:
//   zip archive 'model.keras': member 'config.json' is missing
//
// A ZipReader is not safe to use from several threads at once; give each thread its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kattn {

struct ZipLimits {
  // Largest uncompressed size of one member.
  size_t max_member_bytes = size_t{1} << 34;  // 16 GiB
  // Largest accepted ratio of a member's uncompressed to compressed size (deflate cannot
  // compress better than about 1032:1). Members of at most 1 MiB are exempt.
  size_t max_compression_ratio = 1100;
};

// kOther: any other method (bzip2, lzma, ...); such members are listed but cannot be read.
enum class ZipCompression { kStored, kDeflated, kOther };

// One member as the central directory describes it.
struct ZipMemberInfo {
  std::string name;
  size_t size = 0;             // uncompressed bytes
  size_t compressed_size = 0;  // bytes in the archive
  ZipCompression compression = ZipCompression::kStored;
};

class ZipReader {
 public:
  // Opens the archive at `path`; members are read from the file on demand.
  static ZipReader open(const std::filesystem::path& path, ZipLimits limits = {});
  // Opens an archive held in memory (the bytes are copied); `what` names it in errors.
  static ZipReader from_bytes(std::span<const std::byte> bytes, std::string_view what,
                              ZipLimits limits = {});

  ZipReader(ZipReader&&) noexcept;
  ZipReader& operator=(ZipReader&&) noexcept;
  ~ZipReader();

  // What errors call the archive: its path, or the `what` given to from_bytes.
  const std::string& what() const;
  // The members in central-directory order.
  const std::vector<ZipMemberInfo>& members() const;
  bool contains(std::string_view name) const;
  // The whole uncompressed content of member `name`, its CRC checked; FileError when the
  // member is missing, too large, truncated or corrupt.
  std::string read(std::string_view name) const;
  // The same content handed to `consume` piece by piece as it is inflated (pieces of at most
  // 1 MiB), for members too large to hold; the same checks and errors, the CRC's once the
  // last piece has been handed over.
  void read_chunks(std::string_view name,
                   const std::function<void(std::string_view)>& consume) const;

 private:
  struct State;
  explicit ZipReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A member to write.
struct ZipEntry {
  std::string name;
  std::string bytes;
  ZipCompression compression = ZipCompression::kStored;
};

// The bytes of a zip archive holding `entries` in order. Every member is dated 1980-01-01
// 00:00 (the earliest zip date, as Python's zipfile dates members written from memory), so
// the same entries always give the same bytes. `what` names the archive in errors.
std::string make_zip(std::span<const ZipEntry> entries, std::string_view what);

// Writes make_zip(entries) to a temporary file beside `path` and renames it into place: `path`
// is either left as it was or holds the complete archive.
void write_zip(const std::filesystem::path& path, std::span<const ZipEntry> entries);

}  // namespace kattn
