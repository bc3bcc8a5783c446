// HDF5 files (model.weights.h5 and *.weights.h5), the subset Keras uses: groups, float32
// datasets (0-d ones too: Attention's `scale` has shape ()), integer datasets (the optimizer's
// iteration count), and string attributes (the `name` of every `vars` group).
//
// Paths are relative to the root group, '/'-separated: "layers/attention/vars/0". Only hard
// links are followed: a soft link is refused by name, and an external link, a virtual dataset or
// a dataset whose data lies in external files makes the file refused, so reading never touches
// any other file. HDF5 plugins are never loaded.
//
// libhdf5 1.10 trusts the sizes and offsets a file declares, and crashes or allocates gigabytes
// on hostile files. So before libhdf5 sees a file, kattn walks its structure itself (superblock,
// object headers and their messages, group B-trees, symbol table nodes, local and global heaps)
// and refuses anything outside the subset h5py and kattn write or inconsistent with the file's
// size; variable-length strings are looked up by kattn in the file's own bytes, never by
// libhdf5. Every failure is a FileError that starts with the file's description and names the
// group, dataset or attribute, or the structure and its byte offset:
//   HDF5 file 'x.weights.h5': dataset 'layers/attention/vars/0' has dtype float64, expected
//   float32
//   HDF5 file 'x.weights.h5': the object header of 'layers/dense' at byte 1208 declares
//   4294967295 bytes of messages, beyond the end of the file (41000 bytes)
//
// The HDF5 library is not thread-safe: kattn serialises its own HDF5 calls behind one lock and
// leaves the library's error printing and plugin settings as it found them after each call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn {

struct Hdf5Limits {
  // Largest dataset read, in bytes of float32 values.
  size_t max_dataset_bytes = size_t{1} << 34;  // 16 GiB
  // Most groups and datasets a file read may hold, and how deeply its groups may nest.
  int64_t max_objects = int64_t{1} << 18;
  int64_t max_depth = 64;
  // Largest file opened from a path: it is read into memory whole.
  size_t max_file_bytes = size_t{1} << 35;  // 32 GiB
};

enum class Hdf5ObjectKind { kGroup, kDataset };

struct Hdf5Object {
  std::string path;
  Hdf5ObjectKind kind = Hdf5ObjectKind::kGroup;
  // The group's string attribute list() was asked for, when the group has it.
  std::optional<std::string> attribute = std::nullopt;
};

class Hdf5File {
 public:
  // Opens the file at `path` read-only.
  static Hdf5File open(const std::filesystem::path& path, Hdf5Limits limits = {});
  // Opens the bytes of an HDF5 file held in memory, read-only (the bytes are copied). `what`
  // names it in errors, e.g. "member 'model.weights.h5' of zip archive 'model.keras'".
  static Hdf5File from_image(std::span<const std::byte> image, std::string_view what,
                             Hdf5Limits limits = {});
  // The same, taking the bytes over: no copy is made.
  static Hdf5File from_image(std::string&& image, std::string_view what, Hdf5Limits limits = {});
  // A new, empty, writable file that lives in memory only; image() gives its bytes.
  static Hdf5File create(std::string_view what = "new HDF5 file");

  Hdf5File(Hdf5File&&) noexcept;
  Hdf5File& operator=(Hdf5File&&) noexcept;
  ~Hdf5File();

  // How errors describe the file.
  const std::string& what() const;

  // --- Reading

  // Every group and dataset under the root (the root itself excluded), depth first, each group's
  // members in name order: "layers", "layers/attention", "layers/attention/vars",
  // "layers/attention/vars/0", ..., "vars". Other objects (named datatypes) are skipped. With
  // `group_attribute`, each group's string attribute of that name is read on the way (as
  // read_string_attribute reads it). Time and memory are linear in the number of objects.
  std::vector<Hdf5Object> list(std::string_view group_attribute = {}) const;
  // True when `path` names a group or dataset (reached through hard links only).
  bool exists(std::string_view path) const;
  // The float32 dataset at `path` (big-endian float32 too); any other dtype, a null dataspace or
  // a size beyond Hdf5Limits::max_dataset_bytes or beyond the data the file holds is refused.
  Tensor read_float32(std::string_view path) const;
  // The integer dataset at `path` (int32 or int64, as jax and TensorFlow store the optimizer's
  // iteration count), as int32: a value beyond int32's range is refused, as are other dtypes.
  Int32Tensor read_int32(std::string_view path) const;
  // True when the dataset at `path` holds integers (of any width or sign).
  bool is_integer_dataset(std::string_view path) const;
  // The string attribute `name` of the group or dataset at `path` (variable- or fixed-length);
  // nullopt when there is no such attribute, FileError when it is not a single string.
  std::optional<std::string> read_string_attribute(std::string_view path,
                                                   std::string_view name) const;

  // The string or list of strings attribute `name` of the group or dataset at `path` ("" for
  // the root), as h5py reads Keras 2's `layer_names` and `weight_names`: variable- or
  // fixed-length strings, a single string as a list of one, an empty array of any dtype (h5py
  // stores an empty list as float64) as an empty list. nullopt when there is no such
  // attribute, FileError when it holds something else.
  std::optional<std::vector<std::string>> read_string_list_attribute(std::string_view path,
                                                                     std::string_view name) const;

  // --- Writing (files from create() only), as h5py writes them for Keras

  // Creates the group at `path` and any missing parents; an existing group is left as it is.
  void create_group(std::string_view path);
  // Writes a float32 dataset, little-endian and contiguous, with the tensor's shape (a scalar
  // dataspace for shape ()); parents are created as needed, an existing object is an error.
  void write_float32(std::string_view path, const Tensor& value);
  // The same for an int32 dataset, little-endian.
  void write_int32(std::string_view path, const Int32Tensor& value);
  // Sets a string attribute the way h5py stores a Python str: a scalar, variable-length,
  // UTF-8, NUL-terminated string. Replaces an attribute of that name.
  void write_string_attribute(std::string_view path, std::string_view name, std::string_view value);
  // The bytes of the file as it is now.
  std::string image() const;

  // The implementation's state (src/io/hdf5_state.hpp); named here so its helpers can take it.
  struct State;

 private:
  explicit Hdf5File(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kattn
