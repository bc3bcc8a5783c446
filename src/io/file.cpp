#include "kattn/io/file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "kattn/core/error.hpp"

namespace kattn {

namespace {

[[noreturn]] void fail(std::string_view verb, const std::filesystem::path& path,
                       std::string_view problem) {
  throw FileError("cannot " + std::string(verb) + " '" + path.string() +
                  "': " + std::string(problem));
}

std::string system_reason(int error) { return std::strerror(error); }

// A file descriptor closed when the handle goes.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now; the error close reports (0 when none).
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The folder a path names a file in.
std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

// A temporary file beside a target: created exclusively under a fresh random name, filled,
// and removed again unless it was renamed over the target.
class TemporaryFile {
 public:
  TemporaryFile(const std::filesystem::path& target, std::string_view bytes) : target_(target) {
    for (int attempt = 0;; ++attempt) {
      path_ = folder_of(target) / (".kattn-" + random_hex() + ".tmp");
      // O_EXCL with O_CREAT never opens an existing file, nor follows a link planted there.
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        try {
          write_all(Descriptor(fd), bytes);
        } catch (const FileError&) {
          ::unlink(path_.c_str());  // a throwing constructor runs no destructor
          throw;
        }
        return;
      }
      if (errno != EEXIST || attempt == 16) {
        path_.clear();
        fail("write", target_, system_reason(errno));
      }
    }
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  TemporaryFile(TemporaryFile&& other) noexcept
      : target_(std::move(other.target_)), path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TemporaryFile& operator=(TemporaryFile&&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  const std::filesystem::path& target() const { return target_; }

  // A rename within one folder replaces the target in one step.
  void rename_over_target() {
    if (::rename(path_.c_str(), target_.c_str()) != 0) fail("write", target_, system_reason(errno));
    path_.clear();
  }

 private:
  static std::string random_hex() {
    uint64_t value = 0;
    if (getrandom(&value, sizeof(value), 0) != static_cast<ssize_t>(sizeof(value))) {
      value = static_cast<uint64_t>(::getpid()) << 32 ^ reinterpret_cast<uintptr_t>(&value);
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text(16, '0');
    for (char& digit : text) {
      digit = kDigits[value & 15];
      value >>= 4;
    }
    return text;
  }

  void write_all(Descriptor fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd.get(), bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) fail("write", target_, system_reason(written < 0 ? errno : EIO));
      bytes.remove_prefix(static_cast<size_t>(written));
    }
    // A full disk may show only when the data is flushed on close.
    if (const int error = fd.close(); error != 0) fail("write", target_, system_reason(error));
  }

  std::filesystem::path target_;
  std::filesystem::path path_;
};

// An exclusive advisory lock on a folder, held by the handle.
class FolderLock {
 public:
  explicit FolderLock(const std::filesystem::path& folder)
      : fd_(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_.get() < 0) fail("lock", folder, system_reason(errno));
    while (::flock(fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) fail("lock", folder, system_reason(errno));
    }
  }

 private:
  Descriptor fd_;
};

// A rename fails on a directory in the target's place, or a name too long for the folder:
// found before any target changes.
void check_replaceable(const std::filesystem::path& target) {
  struct stat status {};
  if (::lstat(target.c_str(), &status) != 0) {
    if (errno != ENOENT) fail("write", target, system_reason(errno));
  } else if (S_ISDIR(status.st_mode)) {
    fail("write", target, "it is a directory");
  }
}

}  // namespace

std::string read_file_bytes(const std::filesystem::path& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) fail("read", path, system_reason(errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) fail("read", path, system_reason(errno));
  if (!S_ISREG(status.st_mode)) fail("read", path, "it is " + file_kind(status.st_mode));
  const auto size = static_cast<uintmax_t>(status.st_size);
  if (size > max_bytes) {
    fail("read", path,
         "it holds " + std::to_string(size) + " bytes, more than the limit of " +
             std::to_string(max_bytes));
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail("read", path, system_reason(errno));
    if (got == 0) break;  // the file shrank meanwhile
    done += static_cast<size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

void write_files_atomically(std::span<const FileToWrite> files) {
  std::vector<TemporaryFile> temporaries;
  temporaries.reserve(files.size());
  for (const FileToWrite& file : files) temporaries.emplace_back(file.path, file.bytes);
  // Folders are locked in a fixed order, so that writers of overlapping sets cannot deadlock.
  std::set<std::filesystem::path> folders;
  for (const FileToWrite& file : files) folders.insert(folder_of(file.path));
  std::vector<std::unique_ptr<FolderLock>> locks;
  for (const std::filesystem::path& folder : folders) {
    locks.push_back(std::make_unique<FolderLock>(folder));
  }
  for (const TemporaryFile& temporary : temporaries) check_replaceable(temporary.target());
  for (TemporaryFile& temporary : temporaries) temporary.rename_over_target();
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const FileToWrite file{path, bytes};
  write_files_atomically(std::span(&file, 1));
}

}  // namespace kattn
