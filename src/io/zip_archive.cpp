#include "kattn/io/zip_archive.hpp"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <system_error>

#include "kattn/error.hpp"
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

  // Takes ownership of `source` (freed here when opening fails) and reads the central directory.
  void open(zip_source_t* source, bool starts_like_zip, bool empty) {
    if (empty) {
      // libzip reads an empty file as an archive without members.
      zip_source_free(source);
      fail(what, "not a zip archive (it is empty)");
    }
    ZipErrorGuard guard;
    archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &guard.error);
    if (archive == nullptr) {
      zip_source_free(source);
      const int code = zip_error_code_zip(&guard.error);
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
  if (!std::filesystem::exists(path, ec)) fail(state->what, "no such file");
  if (std::filesystem::is_directory(path, ec)) fail(state->what, "is a directory");
  // The first bytes tell a truncated archive from something that is no archive at all.
  std::string head(4, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(state->what, "cannot be opened: " + std::string(std::strerror(errno)));
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
  }
  ZipErrorGuard guard;
  zip_source_t* source = zip_source_file_create(state->what.c_str(), 0, -1, &guard.error);
  if (source == nullptr) fail(state->what, "cannot be opened: " + describe(&guard.error));
  state->open(source, head == "PK\x03\x04", head.empty());
  return ZipReader(std::move(state));
}

ZipReader ZipReader::from_bytes(std::span<const std::byte> bytes, std::string_view what,
                                ZipLimits limits) {
  auto state = std::make_unique<State>();
  state->what = what;
  state->limits = limits;
  state->bytes.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ZipErrorGuard guard;
  zip_source_t* source =
      zip_source_buffer_create(state->bytes.data(), state->bytes.size(), 0, &guard.error);
  if (source == nullptr) fail(state->what, "cannot be opened: " + describe(&guard.error));
  state->open(source, state->bytes.starts_with("PK\x03\x04"), state->bytes.empty());
  return ZipReader(std::move(state));
}

const std::string& ZipReader::what() const { return state_->what; }

const std::vector<ZipMemberInfo>& ZipReader::members() const { return state_->members; }

bool ZipReader::contains(std::string_view name) const { return state_->find(name) >= 0; }

std::string ZipReader::read(std::string_view name) const {
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
  std::string content(info.size, '\0');
  size_t done = 0;
  // One byte more than declared is asked for, so that a member longer than its size is seen;
  // libzip checks the CRC when a read reaches the end.
  while (true) {
    char overflow = 0;
    char* target = done < content.size() ? content.data() + done : &overflow;
    const size_t wanted = done < content.size() ? content.size() - done : 1;
    const zip_int64_t got = zip_fread(file.get(), target, wanted);
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
    if (done >= content.size()) {
      fail_member(s.what, name, "holds more bytes than the " + std::to_string(info.size) +
                                    " its entry declares");
    }
    done += static_cast<size_t>(got);
  }
  if (done != content.size()) {
    fail_member(s.what, name,
                "is truncated: " + std::to_string(done) + " of " + std::to_string(info.size) +
                    " bytes");
  }
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
        zip_file_set_external_attributes(archive, i, 0, ZIP_OPSYS_UNIX, kExternalAttributes) !=
            0) {
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
