// A structural check of HDF5 global heap collections, run on a file's bytes before the HDF5
// library reads them. HDF5 1.10 trusts the sizes inside a collection (H5HG_read copies an
// object of whatever size the heap declares), so a corrupt heap behind a variable-length string
// attribute (Keras's `name`) makes it read far outside its buffers. Collections are found by
// their signature; one that runs past the end of the file or whose objects overrun it makes
// the file refused.
//
// Collection layout (HDF5 file format spec, "Global Heap"), L = the superblock's size of
// lengths:
//   "GCOL" | version 1 | 3 reserved | collection size (L, header included)
//   objects: index (2) | reference count (2) | reserved (4) | size (L) | data padded to 8
//   object index 0 is the free space and ends the list.
#include <cstring>

#include "io/hdf5_state.hpp"

namespace kattn::hdf5 {

namespace {

constexpr std::string_view kSuperblockSignature = "\x89HDF\r\n\x1a\n";
constexpr std::string_view kCollectionSignature = "GCOL";
constexpr size_t kCollectionHeaderBytes = 8;  // signature, version, reserved

uint64_t little_endian(const unsigned char* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = value << 8 | p[i];
  return value;
}

// The superblock's "size of lengths", or 0 when there is no superblock at any of the offsets
// HDF5 looks at (0, 512, 1024, ...).
size_t size_of_lengths(std::span<const unsigned char> image) {
  for (size_t at = 0; at + 16 <= image.size(); at = at == 0 ? 512 : at * 2) {
    if (std::memcmp(image.data() + at, kSuperblockSignature.data(), 8) != 0) continue;
    const unsigned version = image[at + 8];
    return version <= 1 ? image[at + 14] : image[at + 10];
  }
  return 0;
}

}  // namespace

std::string corrupt_global_heap(std::span<const std::byte> bytes) {
  const auto image = std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  const size_t length_bytes = size_of_lengths(image);
  if (length_bytes == 0) return "";  // not HDF5; the library says so itself
  if (length_bytes != 2 && length_bytes != 4 && length_bytes != 8) {
    return "its superblock declares " + std::to_string(length_bytes) +
           "-byte lengths (expected 2, 4 or 8)";
  }
  const size_t header = kCollectionHeaderBytes + length_bytes;
  const size_t object_header = 8 + length_bytes;
  for (size_t at = 0; at + header <= image.size(); ++at) {
    if (std::memcmp(image.data() + at, kCollectionSignature.data(), 4) != 0 ||
        image[at + 4] != 1) {
      continue;
    }
    const std::string where = "the global heap at byte " + std::to_string(at);
    const uint64_t size = little_endian(image.data() + at + 8, length_bytes);
    if (size < header || size > image.size() - at) {
      return where + " declares " + std::to_string(size) + " bytes, beyond the end of the file";
    }
    const size_t end = at + static_cast<size_t>(size);
    size_t object = at + header;
    while (object + object_header <= end) {
      const uint64_t index = little_endian(image.data() + object, 2);
      const uint64_t object_size = little_endian(image.data() + object + 8, length_bytes);
      if (index == 0) {
        if (object_size > end - object) return where + " has a free-space block beyond its end";
        break;
      }
      const uint64_t padded = (object_size + 7) / 8 * 8;
      if (object_size > end - object || padded > end - object - object_header) {
        return where + " has an object of " + std::to_string(object_size) +
               " bytes beyond its end";
      }
      object += object_header + static_cast<size_t>(padded);
    }
  }
  return "";
}

}  // namespace kattn::hdf5
