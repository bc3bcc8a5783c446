// Opening, creating and closing HDF5 files; the lock, error and path helpers of hdf5_state.hpp.
#include <system_error>
#include <vector>

#include "io/hdf5_state.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"

namespace kattn {

namespace hdf5 {

namespace {

std::recursive_mutex& library_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// Growth step of in-memory files.
constexpr size_t kCoreIncrement = size_t{1} << 16;

// HDF5 keeps open files in a table keyed by name, and its in-memory driver refuses a name that
// exists on disk; a path below /dev/null can never exist, and the counter keeps names unique.
std::string memory_file_name() {
  static int64_t counter = 0;
  return "/dev/null/kattn-hdf5-image-" + std::to_string(counter++);
}

struct StackEntry {
  hid_t minor;
  std::string description;
};

herr_t collect(unsigned /*n*/, const H5E_error2_t* error, void* data) {
  auto* entries = static_cast<std::vector<StackEntry>*>(data);
  entries->push_back({error->min_num, error->desc != nullptr ? error->desc : ""});
  return 0;
}

std::vector<StackEntry> error_stack() {
  std::vector<StackEntry> entries;
  // Upward: the innermost, most specific error first.
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &entries);
  return entries;
}

}  // namespace

Session::Session() : lock_(library_mutex()) {
  H5Eget_auto2(H5E_DEFAULT, &saved_print_, &saved_print_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5PLget_loading_state(&saved_plugins_);
  H5PLset_loading_state(0);
  H5Eclear2(H5E_DEFAULT);
}

Session::~Session() {
  H5Eclear2(H5E_DEFAULT);
  H5PLset_loading_state(saved_plugins_);
  H5Eset_auto2(H5E_DEFAULT, saved_print_, saved_print_data_);
}

std::string take_error_detail() {
  const std::vector<StackEntry> entries = error_stack();
  H5Eclear2(H5E_DEFAULT);
  for (const StackEntry& entry : entries) {
    if (!entry.description.empty()) return entry.description;
  }
  return "";
}

}  // namespace hdf5

using hdf5::Hid;
using hdf5::Session;

void Hdf5File::State::fail(std::string_view problem) const {
  throw FileError(what + ": " + std::string(problem));
}

void Hdf5File::State::fail_hdf5(std::string_view problem) const {
  const std::string detail = hdf5::take_error_detail();
  fail(detail.empty() ? problem : std::string(problem) + " (HDF5: " + detail + ")");
}

std::string normalize_hdf5_path(std::string_view path, const Hdf5File::State& state) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      state.fail("invalid path '" + std::string(path) + "' (empty, '.' or '..' component)");
    }
    start = end + 1;
  }
  return std::string(path);
}

Hid Hdf5File::State::open_object(std::string_view raw_path) const {
  const std::string path = normalize_hdf5_path(raw_path, *this);
  if (path.empty()) return Hid(H5Oopen(file.get(), "/", H5P_DEFAULT), H5Oclose);
  // Each prefix is checked before the next is looked up, so no soft or external link is ever
  // traversed.
  size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    const htri_t exists = H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT);
    if (exists < 0) fail_hdf5("cannot look up '" + prefix + "'");
    if (exists == 0) fail("'" + path + "' does not exist ('" + prefix + "' is missing)");
    H5L_info_t info;
    if (H5Lget_info(file.get(), prefix.c_str(), &info, H5P_DEFAULT) < 0) {
      fail_hdf5("cannot look up '" + prefix + "'");
    }
    if (info.type == H5L_TYPE_SOFT) {
      fail("'" + prefix + "' is a soft link; only hard links are followed");
    }
    if (info.type != H5L_TYPE_HARD) {
      fail("'" + prefix + "' is an external or user-defined link; only hard links are followed");
    }
  }
  Hid object(H5Oopen(file.get(), path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) fail_hdf5("cannot open '" + path + "'");
  return object;
}

Hid Hdf5File::State::open_group(std::string_view raw_path, bool create) const {
  const std::string path = normalize_hdf5_path(raw_path, *this);
  Hid group(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail_hdf5("cannot open the root group");
  size_t start = 0;
  while (start < path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string name = path.substr(start, end - start);
    const std::string prefix = path.substr(0, end);
    const htri_t exists = H5Lexists(group.get(), name.c_str(), H5P_DEFAULT);
    if (exists < 0) fail_hdf5("cannot look up '" + prefix + "'");
    Hid next;
    if (exists == 0) {
      if (!create) fail("group '" + path + "' does not exist ('" + prefix + "' is missing)");
      next = Hid(H5Gcreate2(group.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 H5Gclose);
      if (!next.valid()) fail_hdf5("cannot create group '" + prefix + "'");
    } else {
      Hid object = open_object(prefix);
      if (H5Iget_type(object.get()) != H5I_GROUP) fail("'" + prefix + "' is not a group");
      next = Hid(H5Gopen2(group.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
      if (!next.valid()) fail_hdf5("cannot open group '" + prefix + "'");
    }
    group = std::move(next);
    start = end + 1;
  }
  return group;
}

Hdf5File::Hdf5File(std::unique_ptr<State> state) : state_(std::move(state)) {}
Hdf5File::Hdf5File(Hdf5File&&) noexcept = default;
Hdf5File& Hdf5File::operator=(Hdf5File&&) noexcept = default;

Hdf5File::~Hdf5File() = default;

const std::string& Hdf5File::what() const { return state_->what; }

namespace {

// File access properties: closing the file closes everything still open in it.
Hid access_properties(const Hdf5File::State& state) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.valid() || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0) {
    state.fail_hdf5("cannot set up file access");
  }
  return fapl;
}

// HDF5 copies a file image twice on the way to its in-memory driver (into the property list,
// then into the file); these callbacks hand it the state's own image instead, read-only.
void* image_in_place(size_t size, H5FD_file_image_op_t /*operation*/, void* udata) {
  auto* image = static_cast<std::string*>(udata);
  return size == image->size() ? image->data() : nullptr;
}
void* copy_nothing(void* destination, const void* source, size_t /*size*/,
                   H5FD_file_image_op_t /*operation*/, void* /*udata*/) {
  return destination == source ? destination : nullptr;
}
void* grow_nothing(void* /*image*/, size_t /*size*/, H5FD_file_image_op_t /*operation*/,
                   void* /*udata*/) {
  return nullptr;
}
herr_t free_nothing(void* /*image*/, H5FD_file_image_op_t /*operation*/, void* /*udata*/) {
  return 0;
}
void* share_udata(void* udata) { return udata; }
herr_t release_nothing(void* /*udata*/) { return 0; }

// Vets the state's image (hdf5_vet.cpp), then opens it read-only in place.
void open_image(Hdf5File::State& state) {
  std::string& image = state.image;
  // HDF5 would take an empty image as "no image" and look for a file on disk.
  if (image.empty()) state.fail("not an HDF5 file (it is empty)");
  hdf5::VettedImage vetted =
      hdf5::vet_image(std::as_bytes(std::span(image.data(), image.size())), state);
  state.heaps = std::move(vetted.heaps);
  state.objects = std::move(vetted.objects);
  state.root_attributes = std::move(vetted.root_attributes);
  Session session;
  Hid fapl = access_properties(state);
  H5FD_file_image_callbacks_t callbacks{image_in_place, copy_nothing,    grow_nothing, free_nothing,
                                        share_udata,    release_nothing, &image};
  if (H5Pset_fapl_core(fapl.get(), hdf5::kCoreIncrement, /*backing_store=*/0) < 0 ||
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
      H5Pset_file_image(fapl.get(), image.data(), image.size()) < 0) {
    state.fail_hdf5("cannot load the file image");
  }
  const std::string name = hdf5::memory_file_name();
  state.file = Hid(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!state.file.valid()) state.fail_hdf5("cannot be opened");
}

}  // namespace

Hdf5File Hdf5File::open(const std::filesystem::path& path, Hdf5Limits limits) {
  auto state = std::make_unique<State>();
  state->what = "HDF5 file '" + path.string() + "'";
  state->limits = limits;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) state->fail("no such file");
  if (!std::filesystem::is_regular_file(path, ec)) state->fail("not a regular file");
  // The whole file is read, to be vetted before libhdf5 sees any of it.
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) state->fail("cannot read its size: " + ec.message());
  if (size > limits.max_file_bytes) {
    state->fail("is " + std::to_string(size) + " bytes, more than the limit of " +
                std::to_string(limits.max_file_bytes));
  }
  state->image = read_file_bytes(path);
  open_image(*state);
  return Hdf5File(std::move(state));
}

Hdf5File Hdf5File::from_image(std::span<const std::byte> image, std::string_view what,
                              Hdf5Limits limits) {
  auto state = std::make_unique<State>();
  state->what = what;
  state->limits = limits;
  state->image.assign(reinterpret_cast<const char*>(image.data()), image.size());
  open_image(*state);
  return Hdf5File(std::move(state));
}

Hdf5File Hdf5File::from_image(std::string&& image, std::string_view what, Hdf5Limits limits) {
  auto state = std::make_unique<State>();
  state->what = what;
  state->limits = limits;
  state->image = std::move(image);
  open_image(*state);
  return Hdf5File(std::move(state));
}

Hdf5File Hdf5File::create(std::string_view what) {
  auto state = std::make_unique<State>();
  state->what = what;
  state->writable = true;
  Session session;
  Hid fapl = access_properties(*state);
  if (H5Pset_fapl_core(fapl.get(), hdf5::kCoreIncrement, /*backing_store=*/0) < 0) {
    state->fail_hdf5("cannot set up an in-memory file");
  }
  const std::string name = hdf5::memory_file_name();
  state->file = Hid(H5Fcreate(name.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!state->file.valid()) state->fail_hdf5("cannot be created in memory");
  return Hdf5File(std::move(state));
}

std::string Hdf5File::image() const {
  Session session;
  if (H5Fflush(state_->file.get(), H5F_SCOPE_GLOBAL) < 0) state_->fail_hdf5("cannot be flushed");
  const ssize_t size = H5Fget_file_image(state_->file.get(), nullptr, 0);
  if (size < 0) state_->fail_hdf5("cannot produce its file image");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (H5Fget_file_image(state_->file.get(), bytes.data(), bytes.size()) != size) {
    state_->fail_hdf5("cannot produce its file image");
  }
  return bytes;
}

}  // namespace kattn
