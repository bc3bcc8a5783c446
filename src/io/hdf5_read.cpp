// Reading HDF5 files: listing, float32 and integer datasets, string attributes.
#include <algorithm>
#include <limits>

#include "io/hdf5_state.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

using hdf5::Hid;
using hdf5::Session;

namespace {

// Longest link name or fixed-length string attribute read.
constexpr size_t kMaxNameBytes = size_t{1} << 16;

// numpy's name for an HDF5 datatype, for error messages.
std::string dtype_name(hid_t type) {
  const size_t size = H5Tget_size(type);
  const std::string bits = std::to_string(size * 8);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return "float" + bits;
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
    case H5T_STRING:
      return "string";
    case H5T_ENUM:
      return "enum (bool)";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unknown";
  }
}

std::optional<std::string> string_attribute(const Hdf5File::State& s, hid_t object,
                                            const std::string& name, const std::string& where);

// The shape of a dataset's dataspace; () for a scalar.
Shape dataset_shape(const Hdf5File::State& state, hid_t dataset, const std::string& path) {
  Hid space(H5Dget_space(dataset), H5Sclose);
  if (!space.valid()) state.fail_hdf5("cannot read the shape of dataset '" + path + "'");
  const H5S_class_t kind = H5Sget_simple_extent_type(space.get());
  if (kind == H5S_SCALAR) return {};
  if (kind != H5S_SIMPLE) state.fail("dataset '" + path + "' has no data (null dataspace)");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > H5S_MAX_RANK) {
    state.fail_hdf5("cannot read the shape of dataset '" + path + "'");
  }
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) != rank) {
    state.fail_hdf5("cannot read the shape of dataset '" + path + "'");
  }
  Shape shape;
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max())) {
      state.fail("dataset '" + path + "' has an absurd shape");
    }
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

// A variable-length string read "raw": the bytes of its heap reference, untouched, as an
// opaque value with this tag (see hdf5_global_heap.cpp for why).
constexpr const char* kRawVlenTag = "kattn: raw variable-length string reference";

bool is_raw_vlen_type(hid_t type) {
  if (H5Tget_class(type) != H5T_OPAQUE) return false;
  char* tag = H5Tget_tag(type);
  const bool ours = tag != nullptr && std::string_view(tag) == kRawVlenTag;
  H5free_memory(tag);
  return ours;
}

// The conversion from a stored variable-length string to the raw opaque type: the bytes HDF5
// hands over are the stored reference, so converting is leaving them as they are.
herr_t keep_raw_vlen(hid_t source, hid_t target, H5T_cdata_t* cdata, size_t /*count*/,
                     size_t /*buffer_stride*/, size_t /*background_stride*/, void* /*buffer*/,
                     void* /*background*/, hid_t /*transfer_plist*/) {
  switch (cdata->command) {
    case H5T_CONV_INIT:
      cdata->need_bkg = H5T_BKG_NO;
      return H5Tis_variable_str(source) > 0 && is_raw_vlen_type(target) ? 0 : -1;
    case H5T_CONV_CONV:
      return H5Tget_size(source) == H5Tget_size(target) ? 0 : -1;
    default:
      return 0;
  }
}

// Registers keep_raw_vlen once per process, as a soft conversion from strings to opaque values
// (HDF5 has none of its own; it refuses every pair but ours). Should the application shut HDF5
// down with H5close, reads of variable-length strings then fail with a FileError.
void register_raw_vlen_conversion(const Hdf5File::State& state) {
  static bool registered = false;
  if (registered) return;
  Hid source(H5Tcopy(H5T_C_S1), H5Tclose);
  Hid target(H5Tcreate(H5T_OPAQUE, 16), H5Tclose);
  if (!source.valid() || !target.valid() || H5Tset_size(source.get(), H5T_VARIABLE) < 0 ||
      H5Tset_tag(target.get(), kRawVlenTag) < 0 ||
      H5Tregister(H5T_PERS_SOFT, "kattn_raw_vlen_string", source.get(), target.get(),
                  keep_raw_vlen) < 0) {
    state.fail_hdf5("cannot set up reading variable-length strings");
  }
  registered = true;
}

}  // namespace

std::vector<Hdf5Object> Hdf5File::list(std::string_view group_attribute) const {
  // Vetting walked every group and read every object header and attribute: the listing is its,
  // and libhdf5 reads only attributes other than single strings (to refuse them by name).
  Session session;
  const std::string attribute(group_attribute);
  std::vector<Hdf5Object> objects;
  for (const hdf5::VettedObject& vetted : state_->objects) {
    if (vetted.kind == hdf5::VettedObject::Kind::kDataset) {
      objects.push_back({vetted.path, Hdf5ObjectKind::kDataset});
    } else if (vetted.kind == hdf5::VettedObject::Kind::kGroup) {
      Hdf5Object group{vetted.path, Hdf5ObjectKind::kGroup};
      const auto found =
          std::find_if(vetted.attributes.begin(), vetted.attributes.end(),
                       [&](const hdf5::VettedAttribute& a) { return a.name == attribute; });
      if (!attribute.empty() && found != vetted.attributes.end()) {
        group.attribute = found->string_value;
        if (!found->string_value) {
          // Not a single string: libhdf5's reading says what it is.
          Hid object = state_->open_object(vetted.path);
          group.attribute =
              string_attribute(*state_, object.get(), attribute,
                               "attribute '" + attribute + "' of '" + vetted.path + "'");
        }
      }
      objects.push_back(std::move(group));
    }
  }
  return objects;
}

bool Hdf5File::exists(std::string_view raw_path) const {
  Session session;
  const std::string path = normalize_hdf5_path(raw_path, *state_);
  if (path.empty()) return true;
  size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    const htri_t found = H5Lexists(state_->file.get(), prefix.c_str(), H5P_DEFAULT);
    if (found < 0) {
      hdf5::take_error_detail();
      return false;  // a parent is a dataset
    }
    if (found == 0) return false;
    H5L_info_t info;
    if (H5Lget_info(state_->file.get(), prefix.c_str(), &info, H5P_DEFAULT) < 0) {
      state_->fail_hdf5("cannot look up '" + prefix + "'");
    }
    if (info.type != H5L_TYPE_HARD) return false;
  }
  Hid object = state_->open_object(path);
  const H5I_type_t type = H5Iget_type(object.get());
  return type == H5I_GROUP || type == H5I_DATASET;
}

namespace {

// The dataset at `path` read into a tensor of T through the memory type `memory_type`, once
// `accepts` has taken its datatype (`expected` names what it takes in the error otherwise).
// Sizes are checked against the limits and against the data the file holds.
template <typename T, typename Accepts>
BasicTensor<T> read_dataset(const Hdf5File::State& s, std::string_view raw_path, hid_t memory_type,
                            Accepts&& accepts, const std::string& expected) {
  const std::string path = normalize_hdf5_path(raw_path, s);
  Hid object = s.open_object(path);
  if (H5Iget_type(object.get()) != H5I_DATASET) s.fail("'" + path + "' is not a dataset");
  const hid_t dataset = object.get();

  Hid type(H5Dget_type(dataset), H5Tclose);
  if (!type.valid()) s.fail_hdf5("cannot read the dtype of dataset '" + path + "'");
  if (!accepts(type.get())) {
    s.fail("dataset '" + path + "' has dtype " + dtype_name(type.get()) + ", expected " + expected);
  }
  const size_t element_bytes = H5Tget_size(type.get());
  const Shape shape = dataset_shape(s, dataset, path);
  // The limit applies to the non-zero dimensions even when one is 0: the tensor's strides
  // multiply them all.
  size_t bytes = element_bytes;
  bool empty = false;
  for (int64_t d : shape) {
    const auto n = static_cast<size_t>(d);
    if (n == 0) {
      empty = true;
      continue;
    }
    if (bytes > s.limits.max_dataset_bytes / n) {
      s.fail("dataset '" + path + "' has shape " + shape_to_string(shape) +
             ", more than the limit of " + std::to_string(s.limits.max_dataset_bytes) + " bytes");
    }
    bytes *= n;
  }
  if (empty) return BasicTensor<T>(shape);

  // Vetting admitted contiguous and compact data of the dataset's full size only, but an
  // unwritten dataset has none and would read as fill values, of any declared size.
  const hsize_t stored = H5Dget_storage_size(dataset);
  if (stored != bytes) {
    s.fail("dataset '" + path + "' has shape " + shape_to_string(shape) + " (" +
           std::to_string(bytes) + " bytes) but " + std::to_string(stored) +
           " bytes of data in the file");
  }

  BasicTensor<T> values(shape);
  if (H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    s.fail_hdf5("cannot read dataset '" + path + "'");
  }
  return values;
}

}  // namespace

Tensor Hdf5File::read_float32(std::string_view raw_path) const {
  Session session;
  return read_dataset<float>(
      *state_, raw_path, H5T_NATIVE_FLOAT,
      [](hid_t type) { return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 4; },
      "float32");
}

Int32Tensor Hdf5File::read_int32(std::string_view raw_path) const {
  Session session;
  const State& s = *state_;
  const BasicTensor<int64_t> wide = read_dataset<int64_t>(
      s, raw_path, H5T_NATIVE_INT64,
      [](hid_t type) {
        return H5Tget_class(type) == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2 &&
               (H5Tget_size(type) == 4 || H5Tget_size(type) == 8);
      },
      "int32 or int64");
  Int32Tensor values(wide.shape());
  for (int64_t i = 0; i < wide.size(); ++i) {
    const int64_t value = wide.data()[i];
    if (value < std::numeric_limits<int32_t>::min() ||
        value > std::numeric_limits<int32_t>::max()) {
      s.fail("dataset '" + normalize_hdf5_path(raw_path, s) + "' holds " + std::to_string(value) +
             ", beyond int32's range");
    }
    values.data()[i] = static_cast<int32_t>(value);
  }
  return values;
}

bool Hdf5File::is_integer_dataset(std::string_view raw_path) const {
  Session session;
  const State& s = *state_;
  const std::string path = normalize_hdf5_path(raw_path, s);
  Hid object = s.open_object(path);
  if (H5Iget_type(object.get()) != H5I_DATASET) s.fail("'" + path + "' is not a dataset");
  Hid type(H5Dget_type(object.get()), H5Tclose);
  if (!type.valid()) s.fail_hdf5("cannot read the dtype of dataset '" + path + "'");
  return H5Tget_class(type.get()) == H5T_INTEGER;
}

namespace {

// The string attribute `name` of `object`, or nullopt; `where` names it in errors.
std::optional<std::string> string_attribute(const Hdf5File::State& s, hid_t object,
                                            const std::string& name, const std::string& where) {
  const htri_t exists = H5Aexists(object, name.c_str());
  if (exists < 0) s.fail_hdf5("cannot look up " + where);
  if (exists == 0) return std::nullopt;

  Hid attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) s.fail_hdf5("cannot open " + where);
  Hid type(H5Aget_type(attribute.get()), H5Tclose);
  if (!type.valid()) s.fail_hdf5("cannot read the type of " + where);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    s.fail(where + " has dtype " + dtype_name(type.get()) + ", expected a string");
  }
  Hid space(H5Aget_space(attribute.get()), H5Sclose);
  if (!space.valid()) s.fail_hdf5("cannot read the shape of " + where);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    s.fail(where + " is not a single string");
  }
  const H5T_cset_t cset = H5Tget_cset(type.get());
  Hid memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!memory_type.valid() || H5Tset_cset(memory_type.get(), cset) < 0) {
    s.fail_hdf5("cannot read " + where);
  }

  const htri_t variable = H5Tis_variable_str(type.get());
  if (variable < 0) s.fail_hdf5("cannot read the type of " + where);
  if (variable > 0) {
    // The stored heap reference, resolved by kattn's own heap index (hdf5_global_heap.cpp).
    register_raw_vlen_conversion(s);
    const size_t raw_size = 4 + s.heaps.offset_bytes + 4;
    Hid raw_type(H5Tcreate(H5T_OPAQUE, raw_size), H5Tclose);
    if (!raw_type.valid() || H5Tset_tag(raw_type.get(), kRawVlenTag) < 0) {
      s.fail_hdf5("cannot read " + where);
    }
    std::vector<unsigned char> raw(raw_size);
    if (H5Aread(attribute.get(), raw_type.get(), raw.data()) < 0) {
      s.fail_hdf5("cannot read " + where);
    }
    std::optional<std::string> value = s.heaps.string_at(raw);
    if (!value.has_value()) s.fail(where + " refers to a missing or short global heap object");
    return std::move(*value);
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0 || size > kMaxNameBytes) s.fail(where + " has an absurd length");
  // One byte more than the string holds, so that the copy always ends in a NUL.
  if (H5Tset_size(memory_type.get(), size + 1) < 0 ||
      H5Tset_strpad(memory_type.get(), H5T_STR_NULLTERM) < 0) {
    s.fail_hdf5("cannot read " + where);
  }
  std::string buffer(size + 1, '\0');
  if (H5Aread(attribute.get(), memory_type.get(), buffer.data()) < 0) {
    s.fail_hdf5("cannot read " + where);
  }
  buffer.resize(buffer.find('\0'));
  // Space-padded strings (Fortran style) lose their padding, as h5py strips it.
  if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
    buffer.erase(buffer.find_last_not_of(' ') + 1);
  }
  return buffer;
}

}  // namespace

std::optional<std::string> Hdf5File::read_string_attribute(std::string_view raw_path,
                                                           std::string_view raw_name) const {
  Session session;
  const State& s = *state_;
  const std::string path = normalize_hdf5_path(raw_path, s);
  const std::string name(raw_name);
  Hid object = s.open_object(path);
  return string_attribute(
      s, object.get(), name,
      "attribute '" + name + "' of '" + (path.empty() ? std::string("/") : path) + "'");
}

std::optional<std::vector<std::string>> Hdf5File::read_string_list_attribute(
    std::string_view raw_path, std::string_view name) const {
  const State& s = *state_;
  const std::string path = normalize_hdf5_path(raw_path, s);
  const std::vector<hdf5::VettedAttribute>* attributes = &s.root_attributes;
  if (!path.empty()) {
    const auto object = std::find_if(s.objects.begin(), s.objects.end(),
                                     [&](const hdf5::VettedObject& o) { return o.path == path; });
    if (object == s.objects.end()) s.fail("there is no group or dataset '" + path + "'");
    attributes = &object->attributes;
  }
  const auto found =
      std::find_if(attributes->begin(), attributes->end(),
                   [&](const hdf5::VettedAttribute& attribute) { return attribute.name == name; });
  if (found == attributes->end()) return std::nullopt;
  if (!found->string_values) {
    s.fail("attribute '" + std::string(name) + "' of '" + (path.empty() ? "/" : path) +
           "' is not a string or a list of strings");
  }
  return found->string_values;
}

}  // namespace kattn
