// Vetting an HDF5 file image before libhdf5 reads it. HDF5 1.10 decodes object headers, group
// B-trees, symbol table nodes and local heaps trusting the sizes, counts and offsets it finds in
// them: fuzz_weights_h5 found heap overflows in attribute decoding, copies from failed gigabyte
// allocations and copies of size -1 in each. Version 1 object headers carry no signature, so
// nothing short of walking the file from its superblock can tell them apart from garbage. kattn
// therefore walks every structure libhdf5 will read, for exactly the subset h5py and kattn
// write, and hands the image to libhdf5 only when each address lies in the file, each size and
// count fits what holds it, and each message decodes within its own bytes.
//
// The subset (HDF5 file format specification 2.0; O / L = the superblock's size of offsets /
// lengths, all numbers little-endian):
//   superblock version 0 at byte 0: base address 0, no free-space or driver information
//   version 1 object headers: version | 0 | messages (2) | references (4) | size (4) | 4 padding,
//     messages tiling the header and its continuation blocks: type (2) | size (2) | flags (1) |
//     3 reserved | data padded to 8
//   groups: a symbol table message -> a version 1 B-tree of type 0, "TREE" | 0 | level | entries
//     (2) | left (O) | right (O) | keys (L) and children (O) interleaved, whose leaves are symbol
//     table nodes, "SNOD" | 1 | 0 | symbols (2) | entries (name offset (O) | object header (O) |
//     cache type (4) | 4 reserved | 16 scratch), names in a local heap, "HEAP" | 0 | 3 reserved |
//     data size (L) | free list head (L) | data address (O); hard and soft links
//   datasets: dataspace, datatype (integer, float, string, variable-length string), fill value,
//     contiguous or compact layout; named datatypes
//   attribute messages version 1; modification times; NIL messages
// Variable-length string attributes must refer to objects of the global heaps kattn indexes
// itself (hdf5_global_heap.cpp). Every object is reached by one link only: the walk is a tree,
// as list() sees it.
#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "io/hdf5_state.hpp"
#include "kattn/core/error.hpp"

namespace kattn::hdf5 {

namespace {

constexpr std::string_view kSuperblockSignature = "\x89HDF\r\n\x1a\n";
// An undefined address (all bits set, in any size of offsets).
constexpr uint64_t kUndefined = UINT64_MAX;
// Signature, versions, sizes of offsets and lengths, node ranks, consistency flags.
constexpr size_t kSuperblockFixedBytes = 24;
constexpr size_t kObjectHeaderPrefixBytes = 16;
constexpr size_t kMessageHeaderBytes = 8;
constexpr size_t kMaxRank = 32;  // H5S_MAX_RANK
// Longest member name (hdf5_read.cpp reads no longer ones either).
constexpr size_t kMaxNameBytes = size_t{1} << 16;
// Bounds the recursion through a group's B-tree.
constexpr uint64_t kMaxBtreeLevel = 16;
// What the local heap's free list head holds when the list is empty (libhdf5's H5HL_FREE_NULL).
constexpr uint64_t kNoFreeBlock = 1;

enum MessageType : uint64_t {
  kNil = 0x00,
  kDataspace = 0x01,
  kLinkInfo = 0x02,
  kDatatype = 0x03,
  kOldFillValue = 0x04,
  kFillValue = 0x05,
  kLink = 0x06,
  kExternalFiles = 0x07,
  kLayout = 0x08,
  kGroupInfo = 0x0a,
  kFilterPipeline = 0x0b,
  kAttribute = 0x0c,
  kContinuation = 0x10,
  kSymbolTable = 0x11,
  kModificationTime = 0x12,
};

std::string message_name(uint64_t type) {
  switch (type) {
    case kNil:
      return "NIL";
    case kDataspace:
      return "dataspace";
    case kLinkInfo:
      return "link info";
    case kDatatype:
      return "datatype";
    case kOldFillValue:
    case kFillValue:
      return "fill value";
    case kLink:
      return "link";
    case kExternalFiles:
      return "external data files";
    case kLayout:
      return "data layout";
    case kGroupInfo:
      return "group info";
    case kFilterPipeline:
      return "filter pipeline";
    case kAttribute:
      return "attribute";
    case kContinuation:
      return "continuation";
    case kSymbolTable:
      return "symbol table";
    case kModificationTime:
      return "modification time";
    default:
      return "type " + std::to_string(type);
  }
}

std::string quoted(const std::string& path) { return "'" + (path.empty() ? "/" : path) + "'"; }

uint64_t padded8(uint64_t n) { return (n + 7) / 8 * 8; }

// The bytes [at, end) of one structure, read front to back; reading past `end` is a FileError
// that names the structure.
class Cursor {
 public:
  Cursor(std::span<const unsigned char> image, size_t at, size_t end, std::string what,
         const Hdf5File::State& state)
      : image_(image), at_(at), end_(end), what_(std::move(what)), state_(state) {}

  size_t at() const { return at_; }
  size_t left() const { return end_ - at_; }
  const std::string& what() const { return what_; }

  uint64_t take(size_t bytes) {
    need(bytes);
    uint64_t value = 0;
    for (size_t i = bytes; i-- > 0;) value = value << 8 | image_[at_ + i];
    at_ += bytes;
    return value;
  }
  // An address of `bytes` bytes, kUndefined when all its bits are set.
  uint64_t address(size_t bytes) {
    const uint64_t value = take(bytes);
    return bytes < 8 && value == (uint64_t{1} << (8 * bytes)) - 1 ? kUndefined : value;
  }
  void skip(uint64_t bytes) {
    need(bytes);
    at_ += static_cast<size_t>(bytes);
  }
  // The next `bytes` bytes as a cursor of their own, skipped here.
  Cursor part(uint64_t bytes) {
    need(bytes);
    Cursor inner(image_, at_, at_ + static_cast<size_t>(bytes), what_, state_);
    at_ += static_cast<size_t>(bytes);
    return inner;
  }
  [[noreturn]] void fail(std::string_view problem) const {
    state_.fail(what_ + " " + std::string(problem));
  }

 private:
  void need(uint64_t bytes) const {
    if (bytes > left()) fail("is too short for what it declares");
  }

  std::span<const unsigned char> image_;
  size_t at_;
  size_t end_;
  std::string what_;
  const Hdf5File::State& state_;
};

struct Message {
  uint64_t type;
  size_t at;  // of the message header
  size_t size;
  bool shared = false;  // kept in another object header; the message holds its address
};

struct Datatype {
  uint64_t size = 0;
  bool variable_string = false;
  // Of a fixed-length string: 0 NUL-terminated, 1 NUL-padded, 2 space-padded; -1 for others.
  int string_padding = -1;
};

struct Dataspace {
  bool null = false;
  // Product of the dimensions; kUndefined when it overflows.
  uint64_t elements = 1;
};

// A symbol table entry (superblock or symbol table node).
struct Entry {
  uint64_t name = 0;
  uint64_t header = kUndefined;
  uint64_t cache = 0;  // 0: nothing cached, 1: symbol table addresses, 2: soft link
  uint64_t cached_btree = kUndefined;
  uint64_t cached_heap = kUndefined;
  uint64_t soft_link = 0;  // heap offset of a soft link's target
};

struct LocalHeap {
  size_t data = 0;
  size_t size = 0;
};

uint64_t product(uint64_t a, uint64_t b) {
  if (a == kUndefined || b == kUndefined) return kUndefined;
  if (a != 0 && b > (kUndefined - 1) / a) return kUndefined;
  return a * b;
}

class Vetter {
 public:
  Vetter(std::span<const std::byte> bytes, const Hdf5File::State& state)
      : bytes_(bytes),
        image_(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()),
        state_(state) {}

  VettedImage vet() {
    const Entry root = superblock();
    heaps_ = index_global_heaps(bytes_, offset_bytes_, length_bytes_);
    object(root, "", 0);
    return {std::move(heaps_), std::move(listing_), std::move(root_attributes_)};
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { state_.fail(problem); }

  std::string beyond_end() const { return "beyond the end of the file (" + n(end_) + " bytes)"; }
  static std::string n(uint64_t value) { return std::to_string(value); }

  // Whether [at, at + size) lies in the file.
  bool fits(uint64_t at, uint64_t size) const { return at <= end_ && size <= end_ - at; }

  Cursor cursor(size_t at, size_t size, std::string what) const {
    return Cursor(image_, at, at + size, std::move(what), state_);
  }

  Entry entry(Cursor& c) const {
    Entry e;
    e.name = c.take(offset_bytes_);
    e.header = c.address(offset_bytes_);
    e.cache = c.take(4);
    c.skip(4);
    Cursor scratch = c.part(16);
    if (e.cache == 1) {
      e.cached_btree = scratch.address(offset_bytes_);
      e.cached_heap = scratch.address(offset_bytes_);
    } else if (e.cache == 2) {
      e.soft_link = scratch.take(4);
    }
    return e;
  }
  size_t entry_bytes() const { return 2 * offset_bytes_ + 24; }

  Entry superblock() {
    if (image_.size() < kSuperblockSignature.size() ||
        std::memcmp(image_.data(), kSuperblockSignature.data(), kSuperblockSignature.size()) != 0) {
      fail("not an HDF5 file (no HDF5 signature)");
    }
    const auto truncated = [&](size_t needed) {
      fail("truncated superblock (the file has " + n(image_.size()) + " bytes, the superblock " +
           "needs " + n(needed) + ")");
    };
    if (image_.size() < kSuperblockFixedBytes) truncated(kSuperblockFixedBytes);
    end_ = image_.size();
    Cursor c = cursor(kSuperblockSignature.size(), kSuperblockFixedBytes - 8, "the superblock");
    const uint64_t version = c.take(1);
    if (version != 0) {
      fail("superblock version " + n(version) + " is not read (h5py and kattn write version 0)");
    }
    if (c.take(1) != 0 || c.take(1) != 0 || c.take(1) != 0 || c.take(1) != 0) {
      fail(
          "the superblock declares free-space, symbol table or shared header versions other "
          "than 0");
    }
    offset_bytes_ = static_cast<size_t>(c.take(1));
    length_bytes_ = static_cast<size_t>(c.take(1));
    const auto valid = [](size_t bytes) { return bytes == 2 || bytes == 4 || bytes == 8; };
    if (!valid(offset_bytes_) || !valid(length_bytes_)) {
      fail("the superblock declares " + n(offset_bytes_) + "-byte offsets and " + n(length_bytes_) +
           "-byte lengths (2, 4 or 8 are read)");
    }
    c.skip(1);
    leaf_k_ = c.take(2);
    internal_k_ = c.take(2);
    if (leaf_k_ == 0 || internal_k_ == 0) fail("the superblock declares B-tree ranks of 0");
    if (c.take(4) != 0) fail("the superblock has file consistency flags set");

    const size_t size = kSuperblockFixedBytes + 4 * offset_bytes_ + entry_bytes();
    if (image_.size() < size) truncated(size);
    Cursor rest = cursor(kSuperblockFixedBytes, size - kSuperblockFixedBytes, "the superblock");
    const uint64_t base = rest.address(offset_bytes_);
    const uint64_t free_space = rest.address(offset_bytes_);
    const uint64_t end_of_file = rest.address(offset_bytes_);
    const uint64_t driver = rest.address(offset_bytes_);
    if (base != 0) {
      fail("the superblock declares base address " + n(base) +
           "; only files that start with their superblock are read");
    }
    if (free_space != kUndefined || driver != kUndefined) {
      fail(
          "the superblock refers to free-space or driver information, which h5py and kattn "
          "never write");
    }
    if (end_of_file == kUndefined || end_of_file > image_.size()) {
      fail("truncated (the file ends before the data its superblock describes)");
    }
    if (end_of_file < size) {
      fail("the superblock declares the file to end at byte " + n(end_of_file) +
           ", inside the superblock");
    }
    // libhdf5 reads nothing beyond the end the superblock declares.
    end_ = static_cast<size_t>(end_of_file);
    return entry(rest);
  }

  // --- Object headers

  std::vector<Message> object_header(uint64_t address, const std::string& path) const {
    const std::string where = "the object header of " + quoted(path) + " at byte " + n(address);
    if (address == kUndefined || !fits(address, kObjectHeaderPrefixBytes)) {
      fail(where + " lies " + beyond_end());
    }
    const auto at = static_cast<size_t>(address);
    if (std::memcmp(image_.data() + at, "OHDR", 4) == 0) {
      fail(where +
           " has version 2; kattn reads version 1 object headers, which h5py and kattn "
           "write");
    }
    Cursor prefix = cursor(at, kObjectHeaderPrefixBytes, where);
    const uint64_t version = prefix.take(1);
    if (version != 1) {
      fail(where + " has version " + n(version) + "; kattn reads version 1 object headers, which " +
           "h5py and kattn write");
    }
    prefix.skip(1);
    const uint64_t declared = prefix.take(2);
    prefix.skip(4);
    const uint64_t size = prefix.take(4);
    if (!fits(at + kObjectHeaderPrefixBytes, size)) {
      fail(where + " declares " + n(size) + " bytes of messages, " + beyond_end());
    }

    std::vector<Message> messages;
    std::vector<std::pair<size_t, size_t>> blocks = {
        {at + kObjectHeaderPrefixBytes, static_cast<size_t>(size)}};
    std::set<uint64_t> block_starts = {blocks[0].first};
    for (size_t b = 0; b < blocks.size(); ++b) {
      size_t next = blocks[b].first;
      const size_t end = next + blocks[b].second;
      while (next < end) {
        if (messages.size() == declared) {
          fail(where + " holds more than the " + n(declared) + " messages it declares");
        }
        if (end - next < kMessageHeaderBytes) {
          fail(where + " has a message at byte " + n(next) + " cut off by the end of its block");
        }
        Cursor header = cursor(next, kMessageHeaderBytes, where);
        const uint64_t type = header.take(2);
        const uint64_t message_size = header.take(2);
        const uint64_t flags = header.take(1);
        const std::string message =
            "the " + message_name(type) + " message at byte " + n(next) + " of " + quoted(path);
        const size_t room = end - next - kMessageHeaderBytes;
        if (message_size > room) {
          fail(message + " declares " + n(message_size) + " bytes, more than the " + n(room) +
               " left in its object header");
        }
        if (message_size % 8 != 0) fail(message + " is not padded to a multiple of 8 bytes");
        // Bit 1 marks a shared message, kept in another object header: only datatypes are
        // followed there (h5py's committed dtypes). The other bits say the message is constant,
        // may not be shared, or how a reader that does not know the message type should treat
        // it; every type kept here is known.
        const bool shared = (flags & 2) != 0;
        if (shared && type != kDatatype) {
          fail(message +
               " is shared (kept in another object header), which kattn reads for "
               "datatypes only");
        }
        messages.push_back({type, next, static_cast<size_t>(message_size), shared});
        if (type == kContinuation) {
          Cursor c = cursor(next + kMessageHeaderBytes, static_cast<size_t>(message_size), message);
          const uint64_t block = c.address(offset_bytes_);
          const uint64_t length = c.take(length_bytes_);
          if (block == kUndefined || !fits(block, length)) {
            fail(message + " continues the header with " + n(length) + " bytes at byte " +
                 n(block) + ", " + beyond_end());
          }
          if (length < kMessageHeaderBytes) fail(message + " continues it with an empty block");
          if (!block_starts.insert(block).second) {
            fail(message + " continues it with the block at byte " + n(block) + " a second time");
          }
          blocks.emplace_back(static_cast<size_t>(block), static_cast<size_t>(length));
        }
        next += kMessageHeaderBytes + static_cast<size_t>(message_size);
      }
    }
    if (messages.size() != declared) {
      fail(where + " declares " + n(declared) + " messages but holds " + n(messages.size()));
    }
    return messages;
  }

  Cursor data_of(const Message& message, const std::string& path) const {
    return cursor(message.at + kMessageHeaderBytes, message.size,
                  "the " + message_name(message.type) + " message at byte " + n(message.at) +
                      " of " + quoted(path));
  }

  void object(const Entry& link, const std::string& path, int64_t depth) {
    if (!objects_.insert(link.header).second) {
      fail(quoted(path) + " links to the object at byte " + n(link.header) +
           " a second time (a link cycle?); each object of a weights file has one link");
    }
    if (static_cast<int64_t>(objects_.size()) > state_.limits.max_objects + 1) {
      fail("holds more than " + n(static_cast<uint64_t>(state_.limits.max_objects)) +
           " groups and datasets");
    }
    const std::vector<Message> messages = object_header(link.header, path);
    // Listed before its members, as Hdf5File::list() lists; the root is not listed.
    const size_t listed = listing_.size();
    if (!path.empty()) listing_.push_back({path, VettedObject::Kind::kNamedDatatype, {}});
    std::map<uint64_t, int> counts;
    for (const Message& message : messages) ++counts[message.type];
    const auto count = [&](uint64_t type) { return counts.contains(type) ? counts[type] : 0; };
    for (const Message& message : messages) {
      Cursor c = data_of(message, path);
      switch (message.type) {
        case kNil:
        case kContinuation:
        case kSymbolTable:
        case kDataspace:
        case kDatatype:
        case kOldFillValue:
        case kFillValue:
        case kLayout:
          break;  // decoded below, where they are known to belong together
        case kAttribute: {
          VettedAttribute read = attribute(c, path);
          (path.empty() ? root_attributes_ : listing_[listed].attributes)
              .push_back(std::move(read));
          break;
        }
        case kModificationTime:
          if (c.take(1) != 1) c.fail("has a version other than 1");
          c.skip(7);
          break;
        case kExternalFiles:
          fail("dataset " + quoted(path) +
               " keeps its data in external files; only data in the file is read");
        case kFilterPipeline:
          fail("dataset " + quoted(path) +
               " is filtered (compressed); kattn reads unfiltered data, as h5py writes it");
        case kLinkInfo:
        case kLink:
        case kGroupInfo:
          fail("group " + quoted(path) + " keeps its members in link messages (the newer " +
               "group format); kattn reads symbol table groups, which h5py and kattn write");
        default:
          c.fail("is of a type kattn does not read");
      }
    }
    for (const auto& [type, times] : counts) {
      const bool repeatable = type == kNil || type == kAttribute || type == kContinuation;
      if (times > 1 && !repeatable) {
        fail(quoted(path) + " has " + n(static_cast<uint64_t>(times)) + " " + message_name(type) +
             " messages");
      }
    }

    const auto find = [&](uint64_t type) {
      for (const Message& message : messages) {
        if (message.type == type) return data_of(message, path);
      }
      return data_of(messages.front(), path);  // callers check the count first
    };

    const bool dataset_messages =
        count(kDataspace) + count(kLayout) + count(kFillValue) + count(kOldFillValue) != 0;
    if (count(kSymbolTable) == 1) {
      if (dataset_messages || count(kDatatype) != 0) {
        fail(quoted(path) + " is both a group and a dataset or datatype");
      }
      Cursor c = find(kSymbolTable);
      const uint64_t btree = c.address(offset_bytes_);
      const uint64_t heap = c.address(offset_bytes_);
      if (link.cache == 1 && (link.cached_btree != btree || link.cached_heap != heap)) {
        fail("the link to group " + quoted(path) +
             " caches other symbol table addresses than the group holds");
      }
      if (!path.empty()) listing_[listed].kind = VettedObject::Kind::kGroup;
      group(btree, heap, path, depth);
    } else if (dataset_messages) {
      if (count(kDataspace) != 1 || count(kDatatype) != 1 || count(kLayout) != 1) {
        fail("dataset " + quoted(path) + " lacks a dataspace, datatype or data layout message");
      }
      const Datatype type = dataset_datatype(messages, path);
      Cursor space_cursor = find(kDataspace);
      const Dataspace space = dataspace(space_cursor);
      for (const uint64_t fill_type : {uint64_t{kFillValue}, uint64_t{kOldFillValue}}) {
        if (count(fill_type) == 0) continue;
        Cursor c = find(fill_type);
        fill_value(c, fill_type, type);
      }
      Cursor layout_cursor = find(kLayout);
      layout(layout_cursor, path, type, space);
      if (!path.empty()) listing_[listed].kind = VettedObject::Kind::kDataset;
    } else if (count(kDatatype) == 1) {
      dataset_datatype(messages, path);  // a named datatype
    } else {
      fail("the object header of " + quoted(path) + " at byte " + n(link.header) +
           " is neither a group, a dataset nor a named datatype");
    }
  }

  // --- Messages

  // The datatype among an object's messages, followed into the named datatype's object header
  // when the message is shared (its type is then shared message version 1 or 2, or version 3
  // of kind 2: the header's address).
  Datatype dataset_datatype(const std::vector<Message>& messages, const std::string& path) const {
    const auto it = std::find_if(messages.begin(), messages.end(),
                                 [](const Message& m) { return m.type == kDatatype; });
    Cursor c = data_of(*it, path);
    if (!it->shared) return datatype(c, false);
    const uint64_t version = c.take(1);
    const uint64_t kind = c.take(1);
    if (version == 1) c.skip(6);
    if (version < 1 || version > 3 || (version == 3 && kind != 2)) {
      c.fail("is a shared message of a version or kind kattn does not read");
    }
    const uint64_t header = c.address(offset_bytes_);
    const std::string named = quoted(path) + "'s named datatype at byte " + n(header);
    if (header == kUndefined || !fits(header, kObjectHeaderPrefixBytes)) {
      fail(named + ", " + beyond_end());
    }
    for (const Message& message : object_header(header, named)) {
      if (message.type != kDatatype) continue;
      if (message.shared) fail(named + " is itself shared");
      Cursor type = data_of(message, named);
      return datatype(type, false);
    }
    fail(named + " holds no datatype");
  }

  Datatype datatype(Cursor& c, bool nested) const {
    const uint64_t class_and_version = c.take(1);
    const uint64_t bits = c.take(3);
    Datatype type;
    type.size = c.take(4);
    if (class_and_version >> 4 != 1) {
      c.fail("has datatype version " + n(class_and_version >> 4) + " (h5py and kattn write 1)");
    }
    const uint64_t type_class = class_and_version & 0x0f;
    const auto sized = [&](std::initializer_list<uint64_t> sizes) {
      for (uint64_t size : sizes) {
        if (type.size == size) return true;
      }
      return false;
    };
    switch (type_class) {
      case 0: {  // integer: byte order (bit 0), sign (bit 3) | bit offset (2) | precision (2)
        const uint64_t offset = c.take(2);
        const uint64_t precision = c.take(2);
        if ((bits & ~uint64_t{0x09}) != 0 || !sized({1, 2, 4, 8}) || offset != 0 ||
            precision != 8 * type.size) {
          c.fail("declares an integer type with padding bits, which h5py never writes");
        }
        return type;
      }
      case 1: {  // float: byte order (bit 0), normalization, sign position | 12 bytes
        // Only the IEEE binary16, 32 and 64 layouts: others would go through libhdf5's general
        // float conversion, which nothing written by h5py needs.
        struct Layout {
          uint64_t size, exponent_at, exponent_bits, mantissa_bits, bias;
        };
        constexpr Layout kIeee[] = {{2, 10, 5, 10, 15}, {4, 23, 8, 23, 127}, {8, 52, 11, 52, 1023}};
        const uint64_t offset = c.take(2);
        const uint64_t precision = c.take(2);
        const uint64_t exponent_at = c.take(1);
        const uint64_t exponent_bits = c.take(1);
        const uint64_t mantissa_at = c.take(1);
        const uint64_t mantissa_bits = c.take(1);
        const uint64_t bias = c.take(4);
        const uint64_t ieee_bits = 0x20 | (8 * type.size - 1) << 8;  // implied mantissa bit
        bool ieee = false;
        for (const Layout& layout : kIeee) {
          ieee = ieee ||
                 (type.size == layout.size && (bits & ~uint64_t{1}) == ieee_bits && offset == 0 &&
                  precision == 8 * layout.size && exponent_at == layout.exponent_at &&
                  exponent_bits == layout.exponent_bits && mantissa_at == 0 &&
                  mantissa_bits == layout.mantissa_bits && bias == layout.bias);
        }
        if (!ieee) c.fail("declares a float type that is not IEEE binary16, 32 or 64");
        return type;
      }
      case 3:  // string: padding, character set
        if ((bits & 0x0f) > 2 || (bits >> 4 & 0x0f) > 1 || bits >> 8 != 0 || type.size == 0 ||
            nested) {
          c.fail("declares a malformed string type");
        }
        type.string_padding = static_cast<int>(bits & 0x0f);
        return type;
      case 9: {  // variable-length: kind, padding, character set | base type
        if ((bits & 0x0f) != 1)
          c.fail("declares a variable-length sequence, which kattn does not read");
        if ((bits >> 4 & 0x0f) > 2 || (bits >> 8 & 0x0f) > 1 || bits >> 12 != 0 || nested) {
          c.fail("declares a malformed variable-length string type");
        }
        const Datatype base = datatype(c, true);
        const uint64_t reference = 4 + offset_bytes_ + 4;
        if (base.size != 1 || type.size != reference) {
          c.fail("declares a variable-length string of " + n(type.size) + "-byte references to " +
                 n(base.size) + "-byte characters, not " + n(reference) + " to 1");
        }
        type.variable_string = true;
        return type;
      }
      default:
        c.fail("declares a datatype of class " + n(type_class) + ", which kattn does not read");
    }
  }

  Dataspace dataspace(Cursor& c) const {
    const uint64_t version = c.take(1);
    const uint64_t rank = c.take(1);
    const uint64_t flags = c.take(1);
    Dataspace space;
    if (version == 1) {
      c.skip(5);
    } else if (version == 2) {
      const uint64_t kind = c.take(1);  // scalar, simple, null
      if (kind > 2 || (kind == 1) != (rank > 0)) c.fail("declares a malformed dataspace");
      space.null = kind == 2;
    } else {
      c.fail("has dataspace version " + n(version) + " (1 and 2 are read)");
    }
    if (rank > kMaxRank) c.fail("declares " + n(rank) + " dimensions, more than HDF5's 32");
    // Bit 0: maximum dimensions follow; bit 1 (a permutation index) was never implemented.
    if ((flags & ~uint64_t{1}) != 0) c.fail("declares a permutation index, which is not read");
    std::vector<uint64_t> dims;
    for (uint64_t d = 0; d < rank; ++d) {
      dims.push_back(c.take(length_bytes_));
      space.elements = product(space.elements, dims.back());
    }
    if ((flags & 1) != 0) {
      for (uint64_t d = 0; d < rank; ++d) {
        const uint64_t max = c.address(length_bytes_);
        if (max < dims[d]) c.fail("declares a dimension larger than its maximum");
      }
    }
    if (space.null) space.elements = 0;
    return space;
  }

  void fill_value(Cursor& c, uint64_t message_type, const Datatype& type) const {
    bool has_value = true;
    if (message_type == kFillValue) {
      const uint64_t version = c.take(1);
      if (version == 1 || version == 2) {
        const uint64_t allocation = c.take(1);
        const uint64_t write_time = c.take(1);
        const uint64_t defined = c.take(1);
        if (allocation < 1 || allocation > 3 || write_time > 2 || defined > 1) {
          c.fail("declares an unknown allocation or write time");
        }
        has_value = defined == 1;
      } else if (version == 3) {
        const uint64_t flags = c.take(1);
        if ((flags & 3) == 0 || (flags >> 2 & 3) > 2 || flags >> 6 != 0) {
          c.fail("declares unknown flags");
        }
        has_value = (flags & 0x20) != 0;
      } else {
        c.fail("has version " + n(version) + " (1, 2 and 3 are read)");
      }
    }
    if (!has_value) return;
    const uint64_t size = c.take(4);
    c.skip(size);
    if (size != 0 && size != type.size) {
      c.fail("holds a fill value of " + n(size) + " bytes for a type of " + n(type.size));
    }
  }

  void layout(Cursor& c, const std::string& path, const Datatype& type,
              const Dataspace& space) const {
    const uint64_t version = c.take(1);
    if (version != 3) c.fail("has version " + n(version) + " (h5py and kattn write 3)");
    const uint64_t layout_class = c.take(1);
    const uint64_t needed = product(space.elements, type.size);
    if (needed == kUndefined) fail("dataset " + quoted(path) + " has an absurd shape");
    const std::string mismatch = "dataset " + quoted(path) + " stores ";
    const std::string needs = " bytes, but its shape and type need " + n(needed);
    if (layout_class == 0) {
      const uint64_t size = c.take(2);
      c.skip(size);
      if (size != needed) fail(mismatch + n(size) + needs);
    } else if (layout_class == 1) {
      const uint64_t address = c.address(offset_bytes_);
      const uint64_t size = c.take(length_bytes_);
      if (size != needed) fail(mismatch + n(size) + needs);
      if (address != kUndefined && !fits(address, size)) {
        fail("dataset " + quoted(path) + " has " + n(size) + " bytes of data at byte " +
             n(address) + ", " + beyond_end());
      }
    } else if (layout_class == 2) {
      fail("dataset " + quoted(path) + " is chunked; kattn reads contiguous and compact " +
           "datasets, as h5py writes them");
    } else if (layout_class == 3) {
      fail("dataset " + quoted(path) + " is a virtual dataset; only datasets stored in the file " +
           "are read");
    } else {
      c.fail("declares an unknown layout class " + n(layout_class));
    }
  }

  // Version 1: version | 0 | name size (2) | datatype size (2) | dataspace size (2) | name,
  // datatype and dataspace each padded to 8 | data.
  // The attribute's name, and its value when it is a single string of a plain length.
  VettedAttribute attribute(Cursor& c, const std::string& path) const {
    const uint64_t version = c.take(1);
    if (version != 1) c.fail("has version " + n(version) + " (h5py and kattn write 1)");
    c.skip(1);
    const uint64_t name_size = c.take(2);
    const uint64_t type_size = c.take(2);
    const uint64_t space_size = c.take(2);
    const size_t name_at = c.at();
    c.skip(padded8(name_size));
    // libhdf5 copies the name up to its NUL.
    const auto* name_bytes = reinterpret_cast<const char*>(image_.data() + name_at);
    if (name_size < 2 || name_bytes[name_size - 1] != '\0' ||
        std::memchr(name_bytes, '\0', name_size - 1) != nullptr) {
      c.fail("has a malformed name");
    }
    std::string name(name_bytes, name_size - 1);
    const std::string where = "attribute '" + name + "' of " + quoted(path);
    Cursor type_cursor = c.part(type_size);
    c.skip(padded8(type_size) - type_size);
    Cursor space_cursor = c.part(space_size);
    c.skip(padded8(space_size) - space_size);
    const Datatype type = datatype(type_cursor, false);
    const Dataspace space = dataspace(space_cursor);
    const uint64_t data_size = product(space.elements, type.size);
    // libhdf5 1.10 copies the whole value out of the message without comparing the two.
    if (data_size > c.left()) fail(where + " holds fewer bytes than its type needs");
    VettedAttribute read{std::move(name), std::nullopt, std::nullopt};
    const bool single = !space.null && space.elements == 1;
    const bool fixed_string = type.string_padding >= 0 && type.size <= kMaxNameBytes;
    if (fixed_string && !space.null) {
      // As libhdf5 converts each to a NUL-terminated string, and h5py strips space padding.
      std::vector<std::string> values;
      for (uint64_t i = 0; i < space.elements; ++i) {
        const auto* text = reinterpret_cast<const char*>(image_.data() + c.at() +
                                                         static_cast<size_t>(i * type.size));
        std::string value(text, strnlen(text, static_cast<size_t>(type.size)));
        if (type.string_padding == 2) value.erase(value.find_last_not_of(' ') + 1);
        values.push_back(std::move(value));
      }
      if (single) read.string_value = values[0];
      read.string_values = std::move(values);
    }
    // An empty list of any dtype, as h5py stores an empty Python list (float64).
    if (!space.null && space.elements == 0) read.string_values.emplace();
    if (!type.variable_string) return read;
    std::vector<std::string> values;
    for (uint64_t i = 0; i < space.elements; ++i) {
      const auto raw = image_.subspan(c.at() + static_cast<size_t>(i * type.size),
                                      static_cast<size_t>(type.size));
      std::optional<std::string> value = heaps_.string_at(raw);
      if (!value.has_value()) fail(where + " refers to a missing or short global heap object");
      values.push_back(std::move(*value));
    }
    if (single) read.string_value = values[0];
    if (!space.null) read.string_values = std::move(values);
    return read;
  }

  // --- Groups

  void group(uint64_t btree, uint64_t heap_address, const std::string& path, int64_t depth) {
    if (depth > state_.limits.max_depth) {
      fail("group " + quoted(path) + " is nested more than " +
           n(static_cast<uint64_t>(state_.limits.max_depth)) + " deep");
    }
    const LocalHeap heap = local_heap(heap_address, path);
    std::string last_name;
    btree_node(btree, heap, path, depth, -1, last_name);
  }

  LocalHeap local_heap(uint64_t address, const std::string& path) const {
    const std::string where = "the local heap of group " + quoted(path) + " at byte " + n(address);
    const size_t header = 8 + 2 * length_bytes_ + offset_bytes_;
    if (address == kUndefined || !fits(address, header)) fail(where + " lies " + beyond_end());
    const auto at = static_cast<size_t>(address);
    if (std::memcmp(image_.data() + at, "HEAP", 4) != 0) fail(where + " has no HEAP signature");
    Cursor c = cursor(at + 4, header - 4, where);
    if (c.take(1) != 0) c.fail("has a version other than 0");
    c.skip(3);
    const uint64_t size = c.take(length_bytes_);
    uint64_t free_block = c.take(length_bytes_);
    const uint64_t data = c.address(offset_bytes_);
    if (data == kUndefined || !fits(data, size)) {
      fail(where + " declares a data segment of " + n(size) + " bytes at byte " + n(data) + ", " +
           beyond_end());
    }
    LocalHeap result{static_cast<size_t>(data), static_cast<size_t>(size)};
    // Free blocks: offset of the next (L) | size (L). libhdf5 follows the list without looking
    // for a cycle, so each block must lie after the one before.
    uint64_t previous_end = 0;
    while (free_block != kNoFreeBlock) {
      if (free_block < previous_end || free_block > size || size - free_block < 2 * length_bytes_) {
        fail(where + " has a free block at offset " + n(free_block) +
             " outside its data segment or before the previous one");
      }
      Cursor block =
          cursor(result.data + static_cast<size_t>(free_block), 2 * length_bytes_, where);
      const uint64_t next = block.take(length_bytes_);
      const uint64_t block_size = block.take(length_bytes_);
      if (block_size < 2 * length_bytes_ || block_size > size - free_block) {
        fail(where + " has a free block of " + n(block_size) + " bytes at offset " + n(free_block) +
             ", beyond its data segment");
      }
      previous_end = free_block + block_size;
      free_block = next;
    }
    return result;
  }

  // The NUL-terminated string at `offset` of a group's local heap, of kMaxNameBytes at most (so
  // that many names in one large heap cost no more than their lengths to check).
  std::string heap_string(const LocalHeap& heap, uint64_t offset, const std::string& path,
                          const std::string& what) const {
    const auto* data = reinterpret_cast<const char*>(image_.data() + heap.data);
    const size_t room = offset < heap.size
                            ? std::min(heap.size - static_cast<size_t>(offset), kMaxNameBytes + 1)
                            : 0;
    const void* nul = room > 0 ? std::memchr(data + offset, '\0', room) : nullptr;
    if (nul == nullptr) {
      fail(what + " of group " + quoted(path) + " at heap offset " + n(offset) +
           " is not a string in its local heap (" + n(heap.size) + " bytes) of at most " +
           n(kMaxNameBytes) + " bytes");
    }
    return std::string(data + offset, static_cast<const char*>(nul));
  }

  void claim_node(uint64_t address, const std::string& path) {
    if (!nodes_.insert(address).second) {
      fail("the symbol table of group " + quoted(path) + " reaches the node at byte " + n(address) +
           " a second time");
    }
  }

  void btree_node(uint64_t address, const LocalHeap& heap, const std::string& path, int64_t depth,
                  int64_t level, std::string& last_name) {
    const std::string where = "the B-tree node of group " + quoted(path) + " at byte " + n(address);
    const uint64_t capacity = 2 * internal_k_;
    const size_t size = 8 + 2 * offset_bytes_ + static_cast<size_t>(capacity) * offset_bytes_ +
                        static_cast<size_t>(capacity + 1) * length_bytes_;
    if (address == kUndefined || !fits(address, size)) {
      fail(where + " (" + n(size) + " bytes) lies " + beyond_end());
    }
    claim_node(address, path);
    Cursor c = cursor(static_cast<size_t>(address), size, where);
    if (c.take(4) != 0x45455254) c.fail("has no TREE signature");  // "TREE"
    if (c.take(1) != 0) c.fail("is not a group B-tree node");
    const uint64_t level_byte = c.take(1);
    // 2^18 members, the most a file may hold, fit in a tree of level 2.
    if (level_byte > kMaxBtreeLevel) {
      c.fail("has level " + n(level_byte) + ", more than " + n(kMaxBtreeLevel));
    }
    const auto node_level = static_cast<int64_t>(level_byte);
    if (level >= 0 && node_level != level) {
      c.fail("has level " + n(static_cast<uint64_t>(node_level)) + " below a node of level " +
             n(static_cast<uint64_t>(level + 1)));
    }
    const uint64_t entries = c.take(2);
    if (entries > capacity) {
      c.fail("declares " + n(entries) + " entries, more than the " + n(capacity) + " it holds");
    }
    for (int sibling = 0; sibling < 2; ++sibling) {
      const uint64_t at = c.address(offset_bytes_);
      if (at != kUndefined && !fits(at, size)) c.fail("has a sibling " + beyond_end());
    }
    std::vector<uint64_t> children;
    for (uint64_t i = 0; i <= entries; ++i) {
      // Keys are offsets of names in the heap; libhdf5 compares names with them on lookups.
      heap_string(heap, c.take(length_bytes_), path, "a B-tree key");
      if (i < entries) children.push_back(c.address(offset_bytes_));
    }
    for (uint64_t child : children) {
      if (node_level > 0) {
        btree_node(child, heap, path, depth, node_level - 1, last_name);
      } else {
        symbol_node(child, heap, path, depth, last_name);
      }
    }
  }

  void symbol_node(uint64_t address, const LocalHeap& heap, const std::string& path, int64_t depth,
                   std::string& last_name) {
    const std::string where =
        "the symbol table node of group " + quoted(path) + " at byte " + n(address);
    const uint64_t capacity = 2 * leaf_k_;
    const size_t size = 8 + static_cast<size_t>(capacity) * entry_bytes();
    if (address == kUndefined || !fits(address, size)) {
      fail(where + " (" + n(size) + " bytes) lies " + beyond_end());
    }
    claim_node(address, path);
    Cursor c = cursor(static_cast<size_t>(address), size, where);
    if (c.take(4) != 0x444f4e53) c.fail("has no SNOD signature");  // "SNOD"
    if (c.take(1) != 1) c.fail("has a version other than 1");
    c.skip(1);
    const uint64_t symbols = c.take(2);
    if (symbols > capacity) {
      c.fail("declares " + n(symbols) + " symbols, more than the " + n(capacity) + " it holds");
    }
    for (uint64_t i = 0; i < symbols; ++i) {
      const Entry e = entry(c);
      const std::string name = heap_string(heap, e.name, path, "a member name");
      if (name.empty() || name.find('/') != std::string::npos) {
        fail("group " + quoted(path) + " has a member with an invalid name");
      }
      // libhdf5 finds members by binary search in name order.
      if (name == last_name)
        fail("group " + quoted(path) + " has two members named '" + name + "'");
      if (name < last_name) {
        fail("group " + quoted(path) + " lists member '" + name + "' after '" + last_name +
             "', out of name order");
      }
      last_name = name;
      const std::string member = path.empty() ? name : path + "/" + name;
      if (e.cache == 2) {
        heap_string(heap, e.soft_link, path, "the target of soft link '" + name + "'");
      } else if (e.cache <= 1) {
        object(e, member, depth + 1);
      } else {
        fail("the link to " + quoted(member) + " has an unknown cache type " + n(e.cache));
      }
    }
  }

  std::span<const std::byte> bytes_;
  std::span<const unsigned char> image_;
  const Hdf5File::State& state_;
  GlobalHeaps heaps_;
  size_t end_ = 0;
  size_t offset_bytes_ = 8;
  size_t length_bytes_ = 8;
  uint64_t leaf_k_ = 0;
  uint64_t internal_k_ = 0;
  std::set<uint64_t> objects_;  // object header addresses
  std::vector<VettedObject> listing_;
  std::vector<VettedAttribute> root_attributes_;
  std::set<uint64_t> nodes_;  // B-tree and symbol table node addresses
};

}  // namespace

VettedImage vet_image(std::span<const std::byte> image, const Hdf5File::State& state) {
  return Vetter(image, state).vet();
}

}  // namespace kattn::hdf5
