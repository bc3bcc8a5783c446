// Writing HDF5 files the way h5py writes them for Keras (h5py's defaults: contiguous layout,
// no compression, little-endian float32, variable-length UTF-8 string attributes).
#include <vector>

#include "io/hdf5_state.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

using hdf5::Hid;
using hdf5::Session;

namespace {

// (parent, last component) of a normalized path.
std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

void require_writable(const Hdf5File::State& state) {
  if (!state.writable)
    state.fail("is open read-only; only files from Hdf5File::create are written");
}

}  // namespace

void Hdf5File::create_group(std::string_view raw_path) {
  Session session;
  require_writable(*state_);
  state_->open_group(raw_path, /*create=*/true);
}

namespace {

// Writes `value` as a new contiguous dataset of file type `file_type` (a scalar dataspace for
// shape ()); parents are created as needed, an existing object is an error.
template <typename T>
void write_dataset(const Hdf5File::State& s, std::string_view raw_path, const BasicTensor<T>& value,
                   hid_t file_type, hid_t memory_type) {
  require_writable(s);
  const std::string path = normalize_hdf5_path(raw_path, s);
  if (path.empty()) s.fail("cannot write a dataset at the root group");
  const auto [parent_path, name] = split_path(path);
  Hid parent = s.open_group(parent_path, /*create=*/true);
  const htri_t exists = H5Lexists(parent.get(), name.c_str(), H5P_DEFAULT);
  if (exists < 0) s.fail_hdf5("cannot look up '" + path + "'");
  if (exists > 0) s.fail("cannot write dataset '" + path + "': it exists already");

  std::vector<hsize_t> dims;
  for (int64_t d : value.shape()) dims.push_back(static_cast<hsize_t>(d));
  Hid space =
      dims.empty()
          ? Hid(H5Screate(H5S_SCALAR), H5Sclose)
          : Hid(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  if (!space.valid()) s.fail_hdf5("cannot write dataset '" + path + "'");
  Hid dataset(H5Dcreate2(parent.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
  if (!dataset.valid()) s.fail_hdf5("cannot create dataset '" + path + "'");
  if (value.size() == 0) return;
  const BasicTensor<T> contiguous = value.contiguous();
  if (H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, contiguous.data()) < 0) {
    s.fail_hdf5("cannot write dataset '" + path + "'");
  }
}

}  // namespace

void Hdf5File::write_float32(std::string_view raw_path, const Tensor& value) {
  Session session;
  write_dataset(*state_, raw_path, value, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
}

void Hdf5File::write_int32(std::string_view raw_path, const Int32Tensor& value) {
  Session session;
  write_dataset(*state_, raw_path, value, H5T_STD_I32LE, H5T_NATIVE_INT32);
}

void Hdf5File::write_string_attribute(std::string_view raw_path, std::string_view raw_name,
                                      std::string_view value) {
  Session session;
  const State& s = *state_;
  require_writable(s);
  const std::string path = normalize_hdf5_path(raw_path, s);
  const std::string name(raw_name);
  const std::string where =
      "attribute '" + name + "' of '" + (path.empty() ? std::string("/") : path) + "'";
  if (name.empty() || name.find('\0') != std::string::npos) {
    s.fail("cannot write " + where + ": invalid attribute name");
  }
  if (value.find('\0') != std::string_view::npos) {
    s.fail("cannot write " + where + ": the value contains a NUL character");
  }
  Hid object = s.open_object(path);
  const htri_t exists = H5Aexists(object.get(), name.c_str());
  if (exists < 0) s.fail_hdf5("cannot look up " + where);
  if (exists > 0 && H5Adelete(object.get(), name.c_str()) < 0) {
    s.fail_hdf5("cannot replace " + where);
  }

  Hid type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLTERM) < 0) {
    s.fail_hdf5("cannot write " + where);
  }
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  if (!space.valid()) s.fail_hdf5("cannot write " + where);
  Hid attribute(
      H5Acreate2(object.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  if (!attribute.valid()) s.fail_hdf5("cannot create " + where);
  const std::string text(value);
  const char* pointer = text.c_str();
  if (H5Awrite(attribute.get(), type.get(), &pointer) < 0) s.fail_hdf5("cannot write " + where);
}

}  // namespace kattn
