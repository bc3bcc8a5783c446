#include "kattn/io/weight_store.hpp"

#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"

namespace kattn {

void WeightStore::set(std::string path, Tensor value) {
  datasets_.insert_or_assign(std::move(path), std::move(value));
}

bool WeightStore::contains(std::string_view path) const { return datasets_.contains(path); }

const Tensor* WeightStore::find(std::string_view path) const {
  const auto it = datasets_.find(path);
  return it == datasets_.end() ? nullptr : &it->second;
}

const Tensor& WeightStore::at(std::string_view path) const {
  const Tensor* value = find(path);
  if (value == nullptr) {
    throw ValueError("WeightStore: no dataset '" + std::string(path) + "'");
  }
  return *value;
}

void WeightStore::set_integer(std::string path, Int32Tensor value) {
  integer_datasets_.insert_or_assign(std::move(path), std::move(value));
}

const Int32Tensor* WeightStore::find_integer(std::string_view path) const {
  const auto it = integer_datasets_.find(path);
  return it == integer_datasets_.end() ? nullptr : &it->second;
}

void WeightStore::add_group(std::string path, std::optional<std::string> name) {
  groups_.insert_or_assign(std::move(path), std::move(name));
}

std::optional<std::string> WeightStore::group_name(std::string_view path) const {
  const auto it = groups_.find(path);
  return it == groups_.end() ? std::nullopt : it->second;
}

namespace {

bool is_at_or_below(std::string_view path, std::string_view group) {
  return path.substr(0, group.size()) == group &&
         (path.size() == group.size() || path[group.size()] == '/');
}

}  // namespace

WeightStore WeightStore::under(std::string_view group) const {
  WeightStore part;
  for (const auto& [path, name] : groups_) {
    if (is_at_or_below(path, group)) part.add_group(path, name);
  }
  for (const auto& [path, value] : datasets_) {
    if (is_at_or_below(path, group)) part.set(path, value);
  }
  for (const auto& [path, value] : integer_datasets_) {
    if (is_at_or_below(path, group)) part.set_integer(path, value);
  }
  return part;
}

void WeightStore::merge(const WeightStore& other) {
  for (const auto& [path, name] : other.groups_) add_group(path, name);
  for (const auto& [path, value] : other.datasets_) set(path, value);
  for (const auto& [path, value] : other.integer_datasets_) set_integer(path, value);
}

std::vector<Tensor> WeightStore::variables(std::string_view vars_group) const {
  std::vector<Tensor> values;
  while (true) {
    const Tensor* value = find(std::string(vars_group) + "/" + std::to_string(values.size()));
    if (value == nullptr) return values;
    values.push_back(*value);
  }
}

WeightStore read_weight_store(const Hdf5File& file) {
  WeightStore store;
  for (const Hdf5Object& object : file.list("name")) {
    if (object.kind == Hdf5ObjectKind::kGroup) {
      store.add_group(object.path, object.attribute);
    } else if (file.is_integer_dataset(object.path)) {
      store.set_integer(object.path, file.read_int32(object.path));
    } else {
      store.set(object.path, file.read_float32(object.path));
    }
  }
  return store;
}

void write_weight_store(Hdf5File& file, const WeightStore& store) {
  // Sorted paths put every group before the groups inside it.
  for (const auto& [path, name] : store.groups()) {
    file.create_group(path);
    if (name.has_value()) file.write_string_attribute(path, "name", *name);
  }
  for (const auto& [path, value] : store.datasets()) file.write_float32(path, value);
  for (const auto& [path, value] : store.integer_datasets()) file.write_int32(path, value);
}

WeightStore load_weights_h5(const std::filesystem::path& path, const Hdf5Limits& limits) {
  return read_weight_store(Hdf5File::open(path, limits));
}

WeightStore parse_weights_h5(std::span<const std::byte> image, std::string_view what,
                             const Hdf5Limits& limits) {
  return read_weight_store(Hdf5File::from_image(image, what, limits));
}

std::string weights_h5_bytes(const WeightStore& store) {
  Hdf5File file = Hdf5File::create("weights file");
  write_weight_store(file, store);
  return file.image();
}

void save_weights_h5(const std::filesystem::path& path, const WeightStore& store) {
  Hdf5File file = Hdf5File::create("HDF5 file '" + path.string() + "'");
  write_weight_store(file, store);
  write_file_atomically(path, file.image());
}

}  // namespace kattn
