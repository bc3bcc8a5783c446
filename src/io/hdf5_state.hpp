// What the hdf5_*.cpp files share: owned HDF5 ids, the lock around every HDF5 call, errors.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/io/hdf5_file.hpp"

namespace kattn::hdf5 {

// An HDF5 id that is closed with `Closer` when the handle goes out of scope.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);

  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(Hid&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Held for the length of every public Hdf5File call: takes the process-wide HDF5 lock, stops
// HDF5 from printing its error stack and from loading filter plugins named by a file, and puts
// both settings back afterwards.
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  H5E_auto2_t saved_print_ = nullptr;
  void* saved_print_data_ = nullptr;
  unsigned saved_plugins_ = 0;
};

// The most specific message on HDF5's error stack ("" when it is empty), then clears the stack.
std::string take_error_detail();

// The objects of a file's global heap collections (hdf5_global_heap.cpp), where its
// variable-length strings live.
struct GlobalHeaps {
  size_t offset_bytes = 0;
  size_t length_bytes = 0;
  // collection file offset -> object index -> object bytes
  std::map<uint64_t, std::map<uint64_t, std::string>> collections;

  // The string a variable-length string's raw value (length, collection address, object
  // index) refers to; nullopt when there is no such object or it is too short.
  std::optional<std::string> string_at(std::span<const unsigned char> raw) const;
};
// Every well-formed collection in `image`, a file whose superblock (at byte 0, base address 0)
// declares `offset_bytes` and `length_bytes`.
GlobalHeaps index_global_heaps(std::span<const std::byte> image, size_t offset_bytes,
                               size_t length_bytes);

// An attribute as vetting found it: its name, and its value when it is a single string (of at
// most 64 KiB when of fixed length), as Hdf5File::read_string_attribute reads it.
struct VettedAttribute {
  std::string name;
  std::optional<std::string> string_value;
  // Its values when it is a string or a list of strings (fixed-length ones of at most 64 KiB
  // each, an empty list of any type), as Hdf5File::read_string_list_attribute reads them;
  // nullopt for other types.
  std::optional<std::vector<std::string>> string_values;
};

// An object below the root as vetting found it: its path, what it is, its attributes.
struct VettedObject {
  enum class Kind { kGroup, kDataset, kNamedDatatype };
  std::string path;
  Kind kind;
  std::vector<VettedAttribute> attributes;
};

// What vetting learns of a file: its global heaps, which every variable-length string attribute
// has been checked against, and its objects depth first, each group's members in name order.
struct VettedImage {
  GlobalHeaps heaps;
  std::vector<VettedObject> objects;
  std::vector<VettedAttribute> root_attributes;
};

// Walks every structure of a file image that libhdf5 reads when kattn opens it (hdf5_vet.cpp):
// a FileError naming the structure unless the file is of the subset h5py and kattn write and
// each of its offsets, sizes and counts is consistent.
VettedImage vet_image(std::span<const std::byte> image, const Hdf5File::State& state);

}  // namespace kattn::hdf5

namespace kattn {

struct Hdf5File::State {
  std::string what;
  Hdf5Limits limits;
  // The bytes of a file opened for reading, which HDF5 reads in place.
  std::string image;
  hdf5::Hid file;
  bool writable = false;
  hdf5::GlobalHeaps heaps;                  // of files opened for reading
  std::vector<hdf5::VettedObject> objects;  // of files opened for reading, as vetting found them
  std::vector<hdf5::VettedAttribute> root_attributes;  // the same, of the root group

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  // Closes the file under the HDF5 lock, also when construction fails half-way.
  ~State() {
    if (file.valid()) {
      hdf5::Session session;
      file.reset();
    }
  }

  // "<what>: <problem>" as a FileError.
  [[noreturn]] void fail(std::string_view problem) const;
  // The same with HDF5's own explanation of the last failure appended.
  [[noreturn]] void fail_hdf5(std::string_view problem) const;

  // Opens the group or dataset at `path` after checking that each component is a hard link.
  hdf5::Hid open_object(std::string_view path) const;
  // Opens the group at `path` (the root for ""), creating missing groups when `create` is set.
  hdf5::Hid open_group(std::string_view path, bool create) const;
};

// `path` without leading or trailing '/', refused (naming it) when a component is empty or
// "." or "..".
std::string normalize_hdf5_path(std::string_view path, const Hdf5File::State& state);

}  // namespace kattn
