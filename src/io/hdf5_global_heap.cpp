// HDF5 global heaps, read by kattn itself. Variable-length strings (Keras's `name` attributes)
// live in global heap collections; HDF5 1.10 trusts the heap references and object sizes it
// finds there (H5HG_read indexes and copies whatever a file declares), so a corrupt file makes
// it read far outside its buffers. kattn therefore never lets the library resolve a
// variable-length string: it indexes the collections from the file's bytes here, reads the raw
// heap reference of an attribute (hdf5_read.cpp), and looks the string up in this index, which
// vetting (hdf5_vet.cpp) has already checked every reference of the file against.
//
// Collection layout (HDF5 file format spec, "Global Heap"), O / L = the superblock's size of
// offsets / lengths:
//   "GCOL" | version 1 | 3 reserved | collection size (L, header included)
//   objects: index (2) | reference count (2) | reserved (4) | size (L) | data padded to 8
//   object index 0 is the free space and ends the list.
// A variable-length string's raw value: length (4) | collection address (O) | object index (4).
#include <cstring>

#include "io/hdf5_state.hpp"

namespace kattn::hdf5 {

namespace {

constexpr std::string_view kCollectionSignature = "GCOL";
constexpr size_t kCollectionHeaderBytes = 8;  // signature, version, reserved

uint64_t little_endian(const unsigned char* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = value << 8 | p[i];
  return value;
}

// Adds the objects of the collection at `at`, if a well-formed one starts there; a candidate that
// runs past its end or the file's is skipped (it may be float data that happens to read "GCOL").
void index_collection(std::span<const unsigned char> image, size_t at, GlobalHeaps& heaps) {
  const size_t length_bytes = heaps.length_bytes;
  const size_t header = kCollectionHeaderBytes + length_bytes;
  const uint64_t size = little_endian(image.data() + at + 8, length_bytes);
  if (size < header || size > image.size() - at) return;
  const size_t end = at + static_cast<size_t>(size);
  std::map<uint64_t, std::string> objects;
  const size_t object_header = 8 + length_bytes;
  size_t object = at + header;
  while (object + object_header <= end) {
    const uint64_t index = little_endian(image.data() + object, 2);
    const uint64_t object_size = little_endian(image.data() + object + 8, length_bytes);
    if (index == 0) break;  // free space
    const uint64_t padded = (object_size + 7) / 8 * 8;
    if (object_size > end - object || padded > end - object - object_header) return;
    const auto* data = reinterpret_cast<const char*>(image.data() + object + object_header);
    objects.emplace(index, std::string(data, static_cast<size_t>(object_size)));
    object += object_header + static_cast<size_t>(padded);
  }
  heaps.collections.emplace(at, std::move(objects));
}

}  // namespace

GlobalHeaps index_global_heaps(std::span<const std::byte> bytes, size_t offset_bytes,
                               size_t length_bytes) {
  const auto image = std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  GlobalHeaps heaps;
  heaps.offset_bytes = offset_bytes;
  heaps.length_bytes = length_bytes;
  for (size_t at = 0; at + kCollectionHeaderBytes + heaps.length_bytes <= image.size(); ++at) {
    if (std::memcmp(image.data() + at, kCollectionSignature.data(), 4) == 0 && image[at + 4] == 1) {
      index_collection(image, at, heaps);
    }
  }
  return heaps;
}

std::optional<std::string> GlobalHeaps::string_at(std::span<const unsigned char> raw) const {
  if (raw.size() != 4 + offset_bytes + 4) return std::nullopt;
  const uint64_t length = little_endian(raw.data(), 4);
  const uint64_t address = little_endian(raw.data() + 4, offset_bytes);
  const uint64_t index = little_endian(raw.data() + 4 + offset_bytes, 4);
  if (length == 0) return std::string();  // HDF5 stores no heap object for ""
  const auto collection = collections.find(address);
  if (collection == collections.end()) return std::nullopt;
  const auto object = collection->second.find(index);
  if (object == collection->second.end() || object->second.size() < length) return std::nullopt;
  // A C string ends at its first NUL, as HDF5 hands variable-length strings to C code.
  const std::string value = object->second.substr(0, static_cast<size_t>(length));
  return value.substr(0, value.find('\0'));
}

}  // namespace kattn::hdf5
