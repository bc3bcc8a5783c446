#include "kattn/io/zip_archive.hpp"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <set>
#include <system_error>

#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"

namespace kattn {

namespace {

// Python's zipfile marks members written from memory as plain "rw-------" files made on Unix.
constexpr zip_uint32_t kExternalAttributes = 0600u << 16;
// Below this size a member's compression ratio is not checked.
constexpr size_t kRatioExemptBytes = size_t{1} << 20;

[[noreturn]] void fail(std::string_view what, std::string_view problem) {
  throw FileError("zip archive '" + std::string(what) + "': " + std::string(problem));
}

[[noreturn]] void fail_member(std::string_view what, std::string_view member,
                              std::string_view problem) {
  fail(what, "member '" + std::string(member) + "' " + std::string(problem));
}

std::string describe(zip_error_t* error) { return zip_error_strerror(error); }

struct ZipErrorGuard {
  zip_error_t error;
  ZipErrorGuard() { zip_error_init(&error); }
  ~ZipErrorGuard() { zip_error_fini(&error); }
  ZipErrorGuard(const ZipErrorGuard&) = delete;
  ZipErrorGuard& operator=(const ZipErrorGuard&) = delete;
};

struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

ZipCompression compression_of(zip_uint16_t method) {
  if (method == ZIP_CM_STORE) return ZipCompression::kStored;
  if (method == ZIP_CM_DEFLATE) return ZipCompression::kDeflated;
  return ZipCompression::kOther;
}

// 1980-01-01 00:00 local time: libzip converts modification times to DOS dates in local time,
// so this is the DOS date "1980-01-01 00:00" whatever the time zone.
time_t zip_epoch() {
  std::tm date{};
  date.tm_year = 80;
  date.tm_mon = 0;
  date.tm_mday = 1;
  date.tm_isdst = -1;
  return std::mktime(&date);
}

// The end of central directory record: signature, then at byte 12 the directory's size and at
// byte 16 its offset from the start of the archive (both 4 bytes, little-endian).
constexpr std::string_view kEndOfDirectory = "PK\x05\x06";
constexpr size_t kEndOfDirectoryBytes = 22;
// The record ends the file but for a comment of at most 65535 bytes.
constexpr size_t kTailBytes = kEndOfDirectoryBytes + 65535;

// How many bytes precede the archive when something was prepended to it: the record's position
// less the directory's size and offset. 0 when there is no record (zip64 archives included).
uint64_t prepended_bytes(std::string_view tail, uint64_t tail_start) {
  if (tail.size() < kEndOfDirectoryBytes) return 0;
  const auto u32 = [&](size_t at) {
    uint64_t value = 0;
    for (size_t i = 4; i-- > 0;) value = value << 8 | static_cast<unsigned char>(tail[at + i]);
    return value;
  };
  for (size_t at = tail.size() - kEndOfDirectoryBytes + 1; at-- > 0;) {
    if (tail.substr(at, kEndOfDirectory.size()) != kEndOfDirectory) continue;
    const uint64_t size = u32(at + 12);
    const uint64_t offset = u32(at + 16);
    const uint64_t record = tail_start + at;
    if (offset == 0xffffffff || record < size + offset) return 0;
    return record - size - offset;
  }
  return 0;
}

}  // namespace

struct ZipReader::State {
  std::string what;
  ZipLimits limits;
  // The archive's bytes when it was opened from memory; libzip reads them in place.
  std::string bytes;
  zip_t* archive = nullptr;
  std::vector<ZipMemberInfo> members;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (archive != nullptr) zip_discard(archive);
  }

  // Opens the archive on sources from `make_source` (a fresh source over the archive's bytes
  // from a given offset) and reads the central directory. `tail` is the archive's last bytes,
  // from offset `tail_start`, where the end of central directory record is looked for when
  // the archive has bytes prepended to it; `starts_like_zip` tells a truncated archive from
  // something that is no archive at all.
  template <typename MakeSource>
  void open(MakeSource&& make_source, bool starts_like_zip, std::string_view tail,
            uint64_t tail_start, bool empty) {
    // libzip reads an empty file as an archive without members.
    if (empty) fail(what, "not a zip archive (it is empty)");
    ZipErrorGuard guard;
    archive = open_from(make_source(0, &guard.error), ZIP_RDONLY | ZIP_CHECKCONS, &guard.error);
    int code = archive == nullptr ? zip_error_code_zip(&guard.error) : ZIP_ER_OK;
    if (code == ZIP_ER_NOZIP) {
      // A stub before the archive (as in self-extracting archives) shifts every offset; Python
      // reads such archives, and so does this.
      if (const uint64_t prefix = prepended_bytes(tail, tail_start); prefix > 0) {
        zip_error_fini(&guard.error);
        zip_error_init(&guard.error);
        archive =
            open_from(make_source(prefix, &guard.error), ZIP_RDONLY | ZIP_CHECKCONS, &guard.error);
        code = archive == nullptr ? zip_error_code_zip(&guard.error) : ZIP_ER_OK;
      }
    }
    if (code == ZIP_ER_EXISTS) {
      // Two members of one name; the archive is listed without the check to name it.
      zip_t* listing = open_from(make_source(0, &guard.error), ZIP_RDONLY, &guard.error);
      std::set<std::string> seen;
      for (zip_int64_t i = 0; listing != nullptr && i < zip_get_num_entries(listing, 0); ++i) {
        const char* name = zip_get_name(listing, static_cast<zip_uint64_t>(i), 0);
        if (name != nullptr && !seen.insert(name).second) {
          const std::string twice = name;  // the name lives in the listing
          zip_discard(listing);
          fail_member(what, twice, "appears more than once");
        }
      }
      if (listing != nullptr) zip_discard(listing);
      fail(what, "has two members of the same name");
    }
    if (archive == nullptr) {
      if (code == ZIP_ER_NOZIP && starts_like_zip) {
        fail(what, "truncated (the end of central directory record is missing)");
      }
      if (code == ZIP_ER_NOZIP) fail(what, "not a zip archive");
      if (code == ZIP_ER_INCONS) {
        fail(what, "truncated or corrupt (the central directory does not match the members)");
      }
      fail(what, "cannot be opened: " + describe(&guard.error));
    }
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
      zip_stat_t stat;
      zip_stat_init(&stat);
      if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &stat) != 0) {
        fail(what, "cannot read the central directory entry " + std::to_string(i) + ": " +
                       describe(zip_get_error(archive)));
      }
      constexpr zip_uint64_t kNeeded =
          ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
      if ((stat.valid & kNeeded) != kNeeded) {
        fail(what, "the central directory entry " + std::to_string(i) + " is incomplete");
      }
      members.push_back(ZipMemberInfo{.name = stat.name,
                                      .size = static_cast<size_t>(stat.size),
                                      .compressed_size = static_cast<size_t>(stat.comp_size),
                                      .compression = compression_of(stat.comp_method)});
    }
  }

  // The archive on `source` (freed here when it does not open), or nullptr with `error` set.
  zip_t* open_from(zip_source_t* source, int flags, zip_error_t* error) const {
    if (source == nullptr) fail(what, "cannot be opened: " + describe(error));
    zip_t* opened = zip_open_from_source(source, flags, error);
    if (opened == nullptr) zip_source_free(source);
    return opened;
  }

  // Index of the first member called `name`, or -1.
  zip_int64_t find(std::string_view name) const {
    const auto it = std::find_if(members.begin(), members.end(),
                                 [&](const ZipMemberInfo& m) { return m.name == name; });
    return it == members.end() ? -1 : static_cast<zip_int64_t>(it - members.begin());
  }
};

ZipReader::ZipReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ZipReader::ZipReader(ZipReader&&) noexcept = default;
ZipReader& ZipReader::operator=(ZipReader&&) noexcept = default;
ZipReader::~ZipReader() = default;

ZipReader ZipReader::open(const std::filesystem::path& path, ZipLimits limits) {
  auto state = std::make_unique<State>();
  state->what = path.string();
  state->limits = limits;
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(state->what, "no such file");
  if (std::filesystem::is_directory(status)) fail(state->what, "is a directory");
  // A FIFO or a device would be read without end, or wait for a writer.
  if (!std::filesystem::is_regular_file(status)) fail(state->what, "is not a regular file");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(state->what, "cannot be opened: " + ec.message());
  // The first bytes, and the last, where the end of central directory record is.
  std::string head(4, '\0');
  std::string tail(static_cast<size_t>(std::min<uintmax_t>(size, kTailBytes)), '\0');
  const uint64_t tail_start = size - tail.size();
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(state->what, "cannot be opened: " + std::string(std::strerror(errno)));
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    in.clear();
    in.seekg(static_cast<std::streamoff>(tail_start));
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    if (in.gcount() != static_cast<std::streamsize>(tail.size())) {
      fail(state->what, "cannot be read");
    }
  }
  const std::string& name = state->what;
  state->open(
      [&](uint64_t start, zip_error_t* error) {
        return zip_source_file_create(name.c_str(), start, -1, error);
      },
      head == "PK\x03\x04", tail, tail_start, size == 0);
  return ZipReader(std::move(state));
}

ZipReader ZipReader::from_bytes(std::span<const std::byte> bytes, std::string_view what,
                                ZipLimits limits) {
  auto state = std::make_unique<State>();
  state->what = what;
  state->limits = limits;
  state->bytes.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::string& held = state->bytes;
  state->open(
      [&](uint64_t start, zip_error_t* error) {
        return zip_source_buffer_create(held.data() + start, held.size() - start, 0, error);
      },
      held.starts_with("PK\x03\x04"), held, 0, held.empty());
  return ZipReader(std::move(state));
}

const std::string& ZipReader::what() const { return state_->what; }

const std::vector<ZipMemberInfo>& ZipReader::members() const { return state_->members; }

bool ZipReader::contains(std::string_view name) const { return state_->find(name) >= 0; }

void ZipReader::read_chunks(std::string_view name,
                            const std::function<void(std::string_view)>& consume) const {
  const State& s = *state_;
  const zip_int64_t index = s.find(name);
  if (index < 0) fail_member(s.what, name, "is missing");
  const ZipMemberInfo& info = s.members[static_cast<size_t>(index)];
  if (info.compression == ZipCompression::kOther) {
    fail_member(s.what, name, "uses a compression method other than stored or deflated");
  }
  if (info.size > s.limits.max_member_bytes) {
    fail_member(s.what, name,
                "declares " + std::to_string(info.size) + " bytes, more than the limit of " +
                    std::to_string(s.limits.max_member_bytes));
  }
  if (info.size > kRatioExemptBytes &&
      info.size / std::max<size_t>(info.compressed_size, 1) > s.limits.max_compression_ratio) {
    fail_member(s.what, name,
                "declares " + std::to_string(info.size) + " bytes from " +
                    std::to_string(info.compressed_size) +
                    " compressed bytes, an impossible compression ratio");
  }
  if (info.compression == ZipCompression::kStored && info.size != info.compressed_size) {
    fail_member(s.what, name, "is stored but its compressed and uncompressed sizes differ");
  }

  std::unique_ptr<zip_file_t, FileCloser> file(
      zip_fopen_index(s.archive, static_cast<zip_uint64_t>(index), 0));
  if (file == nullptr) {
    fail_member(s.what, name, "cannot be opened: " + describe(zip_get_error(s.archive)));
  }
  // Reads of at most kChunkBytes each: libzip 1.7 fails single reads of 4 GiB and more. One
  // byte more than declared is asked for, so that a member longer than its size is seen;
  // libzip checks the CRC when a read reaches the end.
  constexpr size_t kChunkBytes = size_t{1} << 20;
  std::string chunk(std::min(info.size + 1, kChunkBytes), '\0');
  size_t done = 0;
  while (true) {
    const size_t wanted = std::min(chunk.size(), info.size - std::min(done, info.size) + 1);
    const zip_int64_t got = zip_fread(file.get(), chunk.data(), wanted);
    if (got < 0) {
      zip_error_t* error = zip_file_get_error(file.get());
      const int code = zip_error_code_zip(error);
      if (code == ZIP_ER_CRC) fail_member(s.what, name, "is corrupt (CRC mismatch)");
      if (code == ZIP_ER_EOF || code == ZIP_ER_READ || code == ZIP_ER_INCONS) {
        fail_member(s.what, name, "is truncated");
      }
      if (code == ZIP_ER_ZLIB || code == ZIP_ER_COMPRESSED_DATA) {
        fail_member(s.what, name, "is corrupt (invalid deflate data)");
      }
      fail_member(s.what, name, "cannot be read: " + describe(error));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
    if (done > info.size) {
      fail_member(s.what, name,
                  "holds more bytes than the " + std::to_string(info.size) + " its entry declares");
    }
    consume(std::string_view(chunk.data(), static_cast<size_t>(got)));
  }
  if (done != info.size) {
    fail_member(
        s.what, name,
        "is truncated: " + std::to_string(done) + " of " + std::to_string(info.size) + " bytes");
  }
}

std::string ZipReader::read(std::string_view name) const {
  std::string content;
  const zip_int64_t index = state_->find(name);
  if (index >= 0) {
    content.reserve(std::min(state_->members[static_cast<size_t>(index)].size,
                             state_->limits.max_member_bytes));
  }
  read_chunks(name, [&](std::string_view chunk) { content += chunk; });
  return content;
}

std::string make_zip(std::span<const ZipEntry> entries, std::string_view what) {
  std::set<std::string_view> names;
  for (const ZipEntry& entry : entries) {
    if (entry.name.empty()) fail(what, "cannot write a member with an empty name");
    if (!names.insert(entry.name).second) {
      fail_member(what, entry.name, "is given twice");
    }
    if (entry.compression == ZipCompression::kOther) {
      fail_member(what, entry.name, "must be stored or deflated");
    }
  }
  ZipErrorGuard guard;
  // The archive is assembled in a growing memory buffer that outlives zip_close.
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &guard.error);
  if (buffer == nullptr) fail(what, "cannot be created: " + describe(&guard.error));
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &guard.error);
  if (archive == nullptr) {
    zip_source_free(buffer);
    fail(what, "cannot be created: " + describe(&guard.error));
  }
  // The archive releases its reference to the buffer when it is closed or discarded; this one
  // keeps the buffer alive to read the result back.
  struct SourceFree {
    void operator()(zip_source_t* source) const { zip_source_free(source); }
  };
  zip_source_keep(buffer);
  std::unique_ptr<zip_source_t, SourceFree> kept(buffer);
  const time_t epoch = zip_epoch();
  for (const ZipEntry& entry : entries) {
    zip_source_t* data = zip_source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0);
    const zip_int64_t index =
        data == nullptr ? -1 : zip_file_add(archive, entry.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (data != nullptr) zip_source_free(data);
      const std::string problem = describe(zip_get_error(archive));
      zip_discard(archive);
      fail_member(what, entry.name, "cannot be added: " + problem);
    }
    const auto i = static_cast<zip_uint64_t>(index);
    const zip_int32_t method =
        entry.compression == ZipCompression::kDeflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
    if (zip_set_file_compression(archive, i, method, 0) != 0 ||
        zip_file_set_mtime(archive, i, epoch, 0) != 0 ||
        zip_file_set_external_attributes(archive, i, 0, ZIP_OPSYS_UNIX, kExternalAttributes) != 0) {
      const std::string problem = describe(zip_get_error(archive));
      zip_discard(archive);
      fail_member(what, entry.name, "cannot be added: " + problem);
    }
  }
  if (zip_close(archive) != 0) {
    const std::string problem = describe(zip_get_error(archive));
    zip_discard(archive);
    fail(what, "cannot be written: " + problem);
  }

  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_source_stat(buffer, &stat) != 0 || (stat.valid & ZIP_STAT_SIZE) == 0 ||
      zip_source_open(buffer) != 0) {
    fail(what, "cannot be written: " + describe(zip_source_error(buffer)));
  }
  std::string bytes(static_cast<size_t>(stat.size), '\0');
  const zip_int64_t got = zip_source_read(buffer, bytes.data(), bytes.size());
  zip_source_close(buffer);
  if (got < 0 || static_cast<size_t>(got) != bytes.size()) {
    fail(what, "cannot be written: " + describe(zip_source_error(buffer)));
  }
  return bytes;
}

void write_zip(const std::filesystem::path& path, std::span<const ZipEntry> entries) {
  write_file_atomically(path, make_zip(entries, path.string()));
}

}  // namespace kattn
