// The content of a Keras weights file (model.weights.h5 inside a .keras archive, or a
// standalone *.weights.h5): every float32 dataset by its HDF5 path, the integer ones (the
// optimizer's iteration count) apart, and every group with the `name` attribute Keras puts on
// `vars` groups.
//
// Paths are relative to the file's root, as Keras lays them out:
//   layers/multi_head_attention/query_dense/vars/0   the MHA query kernel (Dq, N, key_dim)
//   layers/attention/vars                            group, name = "luong"
// Groups are listed even when empty (weightless layers have an empty `vars` group), so that
// saving writes back what was loaded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/io/hdf5_file.hpp"

namespace kattn {

class WeightStore {
 public:
  // Adds or replaces the dataset at `path` ("layers/dense/vars/0"); its parent groups are
  // created when the store is saved.
  void set(std::string path, Tensor value);
  bool contains(std::string_view path) const;
  // The dataset at `path`, or nullptr.
  const Tensor* find(std::string_view path) const;
  // The dataset at `path`; ValueError naming the path when there is none.
  const Tensor& at(std::string_view path) const;
  // Every dataset, by path.
  const std::map<std::string, Tensor, std::less<>>& datasets() const { return datasets_; }

  // Integer datasets, kept apart from the float32 weights: the optimizer's iteration count
  // (optimizer/vars/0), int32 in files from jax, int64 from TensorFlow; written as int32.
  void set_integer(std::string path, Int32Tensor value);
  // The integer dataset at `path`, or nullptr.
  const Int32Tensor* find_integer(std::string_view path) const;
  const std::map<std::string, Int32Tensor, std::less<>>& integer_datasets() const {
    return integer_datasets_;
  }

  // Records a group, with the `name` attribute it carries (nullopt: none); replaces an earlier
  // record of the same group.
  void add_group(std::string path, std::optional<std::string> name = std::nullopt);
  // The `name` attribute of group `path` ("layers/dense/vars" -> "hidden"), or nullopt.
  std::optional<std::string> group_name(std::string_view path) const;
  // Every recorded group with its `name` attribute.
  const std::map<std::string, std::optional<std::string>, std::less<>>& groups() const {
    return groups_;
  }

  // The groups and datasets at `group` and below it ("optimizer": optimizer, optimizer/vars,
  // optimizer/vars/0, ...).
  WeightStore under(std::string_view group) const;
  // Adds every group and dataset of `other`, replacing those of the same path.
  void merge(const WeightStore& other);
  // True when the store holds a dataset, float32 or integer.
  bool has_datasets() const { return !datasets_.empty() || !integer_datasets_.empty(); }

  // The variables of one layer in creation order: datasets <vars_group>/0, /1, ... up to the
  // first missing index (Keras numbers them without gaps).
  std::vector<Tensor> variables(std::string_view vars_group) const;

 private:
  std::map<std::string, Tensor, std::less<>> datasets_;
  std::map<std::string, Int32Tensor, std::less<>> integer_datasets_;
  std::map<std::string, std::optional<std::string>, std::less<>> groups_;
};

// Reads every group (with its `name` attribute) and every dataset of an HDF5 weights file:
// integer datasets into integer_datasets(), the rest as float32. A dataset of another dtype, or
// a `name` attribute that is not a string, is a FileError naming it.
WeightStore read_weight_store(const Hdf5File& file);
// Writes the store into a file from Hdf5File::create: groups first, then datasets.
void write_weight_store(Hdf5File& file, const WeightStore& store);

// Standalone weights files (`model.save_weights("x.weights.h5")`).
WeightStore load_weights_h5(const std::filesystem::path& path, const Hdf5Limits& limits = {});
// Writes the file through a temporary file renamed into place: no partial file is left.
void save_weights_h5(const std::filesystem::path& path, const WeightStore& store);

// The same from and to bytes; `what` names the source in errors.
WeightStore parse_weights_h5(std::span<const std::byte> image, std::string_view what,
                             const Hdf5Limits& limits = {});
std::string weights_h5_bytes(const WeightStore& store);

}  // namespace kattn
