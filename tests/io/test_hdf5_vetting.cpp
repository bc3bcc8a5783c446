// kattn's walk over an HDF5 file before libhdf5 reads it (src/io/hdf5_vet.cpp): the inputs that
// crashed libhdf5 1.10 or made it allocate gigabytes, one corruption of each structure by hand,
// and every real weights file, which must still load.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/weight_store.hpp"
#include "kattn/io/zip_archive.hpp"

namespace kattn {
namespace {

using testing::bytes_of;
using testing::message_of;
namespace fs = std::filesystem;

fs::path regressions_dir() { return testing::data_dir().parent_path() / "io" / "fuzz_regressions"; }

std::string refusal(const std::string& image) {
  return message_of<FileError>([&] { parse_weights_h5(bytes_of(image), "x.h5"); });
}

uint64_t get(const std::string& image, size_t at, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;)
    value = value << 8 | static_cast<unsigned char>(image.at(at + i));
  return value;
}

void put(std::string& image, size_t at, size_t bytes, uint64_t value) {
  for (size_t i = 0; i < bytes; ++i) image.at(at + i) = static_cast<char>(value >> (8 * i) & 0xff);
}

// Where things are in a file kattn writes: superblock version 0 with 8-byte offsets and lengths,
// whose root symbol table entry (at byte 56) holds the root's object header address, then its
// cached B-tree and local heap addresses.
constexpr size_t kRootHeader = 64;
constexpr size_t kRootBtree = 80;
constexpr size_t kRootHeap = 88;

struct Message {
  uint64_t type;
  size_t at;  // of the message header; its data follows at + 8
  size_t size;
  size_t block_end;  // of the header block that holds it
};

// The messages of the version 1 object header at `header`, continuation blocks included.
std::vector<Message> messages(const std::string& image, size_t header) {
  std::vector<Message> found;
  std::vector<std::pair<size_t, size_t>> blocks = {{header + 16, get(image, header + 8, 4)}};
  for (size_t b = 0; b < blocks.size(); ++b) {
    const size_t end = blocks[b].first + blocks[b].second;
    for (size_t at = blocks[b].first; at < end; at += 8 + get(image, at + 2, 2)) {
      found.push_back({get(image, at, 2), at, get(image, at + 2, 2), end});
      if (found.back().type == 0x10)
        blocks.emplace_back(get(image, at + 8, 8), get(image, at + 16, 8));
    }
  }
  return found;
}

Message message(const std::string& image, size_t header, uint64_t type) {
  for (const Message& m : messages(image, header)) {
    if (m.type == type) return m;
  }
  ADD_FAILURE() << "no message of type " << type;
  return {};
}

// The first symbol table node of the group whose B-tree (one leaf) is at `btree`: child 0
// follows the node's 24-byte header and key 0.
size_t first_symbol_node(const std::string& image, size_t btree) {
  return get(image, btree + 32, 8);
}

// The object header of the first member of that group: entry 0 of the node starts at byte 8
// with the member's name offset, then its object header address.
size_t first_member(const std::string& image, size_t btree) {
  return get(image, first_symbol_node(image, btree) + 16, 8);
}

// The B-tree of the group whose object header is at `header` (its symbol table message).
size_t group_btree(const std::string& image, size_t header) {
  return get(image, message(image, header, 0x11).at + 8, 8);
}

// Root -> group "a" (name "first") -> group "b" -> dataset "0".
std::string sample() {
  WeightStore store;
  store.add_group("a", "first");
  store.add_group("a/b");
  store.set("a/b/0", Tensor({2}, {1, 2}));
  return weights_h5_bytes(store);
}

TEST(Hdf5Vetting, SampleLoads) {
  const WeightStore store = parse_weights_h5(bytes_of(sample()), "x.h5");
  EXPECT_EQ(store.group_name("a"), "first");
  EXPECT_EQ(store.at("a/b/0").to_vector(), (std::vector<float>{1, 2}));
}

TEST(Hdf5Vetting, EveryRealFileLoads) {
  int64_t files = 0;
  for (const char* dir : {"golden", "golden-models"}) {
    for (const auto& entry : fs::directory_iterator(testing::data_dir() / dir)) {
      const fs::path archive = entry.path() / "model.keras";
      if (!fs::exists(archive)) continue;
      SCOPED_TRACE(archive.string());
      const std::string image = ZipReader::open(archive).read("model.weights.h5");
      EXPECT_NO_THROW(parse_weights_h5(bytes_of(image), "model.weights.h5"));
      ++files;
    }
  }
  const fs::path corpus = testing::data_dir().parent_path().parent_path() / "fuzz" / "corpus";
  for (const auto& entry : fs::directory_iterator(corpus / "fuzz_weights_h5")) {
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_weights_h5(entry.path()));
    ++files;
  }
  EXPECT_GE(files, 300);
}

TEST(Hdf5Vetting, InputsThatCrashedLibhdf5AreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"h5_libhdf5_attribute_overflow_1.h5",
       "the attribute message at byte 25544 of 'layers/multi_head_attention/_softmax/vars' "
       "declares a variable-length string of 36-byte references to 1-byte characters, not 16 to "
       "1"},
      {"h5_libhdf5_attribute_overflow_2.h5", "the superblock has file consistency flags set"},
      {"h5_libhdf5_btree_null_read_1.h5",
       "the link to group '/' caches other symbol table addresses than the group holds"},
      {"h5_libhdf5_btree_null_read_2.h5",
       "the local heap of group 'layers/attention' at byte 11304 has no HEAP signature"},
      {"h5_libhdf5_btree_null_read_3.h5",
       "the link to group '/' caches other symbol table addresses than the group holds"},
      {"h5_libhdf5_btree_null_read_4.h5",
       "the local heap of group '/' at byte 680 has no HEAP signature"},
      {"h5_libhdf5_btree_null_read_5.h5",
       "the local heap of group '/' at byte 680 has no HEAP signature"},
      {"h5_libhdf5_local_heap_huge_alloc.h5", "the superblock has file consistency flags set"},
      {"h5_libhdf5_local_heap_negative_copy.h5",
       "the local heap of group 'layers' at byte 6608 declares a data segment of "
       "18446744073709551615 bytes at byte 6640, beyond the end of the file (25616 bytes)"},
      {"h5_libhdf5_object_header_huge_alloc_1.h5",
       "the continuation message at byte 22672 of "
       "'layers/multi_head_attention/_dropout_layer/vars' continues the header with 4143972256 "
       "bytes at byte 23688, beyond the end of the file (25616 bytes)"},
      {"h5_libhdf5_object_header_huge_alloc_2.h5",
       "the continuation message at byte 25520 of 'layers/multi_head_attention/_softmax/vars' "
       "is too short for what it declares"},
      {"h5_libhdf5_object_header_huge_alloc_3.h5",
       "the dataspace message at byte 18800 of 'layers/multi_head_attention/query_dense/vars/1' "
       "declares a dimension larger than its maximum"},
      {"h5_libhdf5_object_header_huge_alloc_4.h5",
       "the continuation message at byte 7776 of 'layers/input_layer/vars' continues the header "
       "with 8589934688 bytes at byte 8792, beyond the end of the file (25616 bytes)"},
      {"h5_libhdf5_object_header_huge_alloc_5.h5",
       "the continuation message at byte 9608 of 'layers/input_layer_1/vars' continues the "
       "header with 2147483744 bytes at byte 10624, beyond the end of the file (13432 bytes)"},
      {"h5_libhdf5_superblock_huge_alloc.h5",
       "the superblock refers to free-space or driver information, which h5py and kattn never "
       "write"},
  };
  for (const auto& [file, expected] : cases) {
    SCOPED_TRACE(file);
    EXPECT_EQ(refusal(read_file_bytes(regressions_dir() / file)), "x.h5: " + expected);
  }
}

TEST(Hdf5Vetting, TruncatedSuperblock) {
  EXPECT_EQ(refusal(sample().substr(0, 40)),
            "x.h5: truncated superblock (the file has 40 bytes, the superblock needs 96)");
  EXPECT_EQ(refusal(sample().substr(0, 12)),
            "x.h5: truncated superblock (the file has 12 bytes, the superblock needs 24)");
}

TEST(Hdf5Vetting, ObjectHeaderSizeBeyondTheFile) {
  std::string image = sample();
  const size_t a = first_member(image, get(image, kRootBtree, 8));
  put(image, a + 8, 4, 0xffffffff);
  EXPECT_EQ(refusal(image), "x.h5: the object header of 'a' at byte " + std::to_string(a) +
                                " declares 4294967295 bytes of messages, beyond the end of the "
                                "file (" +
                                std::to_string(image.size()) + " bytes)");
}

TEST(Hdf5Vetting, BtreeNodeWithTooManyEntries) {
  std::string image = sample();
  const size_t btree = get(image, kRootBtree, 8);
  put(image, btree + 6, 2, 33);
  EXPECT_EQ(refusal(image), "x.h5: the B-tree node of group '/' at byte " + std::to_string(btree) +
                                " declares 33 entries, more than the 32 it holds");
}

TEST(Hdf5Vetting, SymbolTableNodeWithTooManySymbols) {
  std::string image = sample();
  const size_t node = first_symbol_node(image, get(image, kRootBtree, 8));
  put(image, node + 6, 2, 9);
  EXPECT_EQ(refusal(image), "x.h5: the symbol table node of group '/' at byte " +
                                std::to_string(node) +
                                " declares 9 symbols, more than the 8 it holds");
}

TEST(Hdf5Vetting, LocalHeapDataSegmentBeyondTheFile) {
  std::string image = sample();
  const size_t heap = get(image, kRootHeap, 8);
  const size_t data = get(image, heap + 24, 8);
  put(image, heap + 8, 8, image.size());
  EXPECT_EQ(refusal(image), "x.h5: the local heap of group '/' at byte " + std::to_string(heap) +
                                " declares a data segment of " + std::to_string(image.size()) +
                                " bytes at byte " + std::to_string(data) +
                                ", beyond the end of the file (" + std::to_string(image.size()) +
                                " bytes)");
}

TEST(Hdf5Vetting, MemberNameOutsideTheLocalHeap) {
  std::string image = sample();
  const size_t heap = get(image, kRootHeap, 8);
  const size_t node = first_symbol_node(image, get(image, kRootBtree, 8));
  put(image, node + 8, 8, 1000);
  EXPECT_EQ(refusal(image),
            "x.h5: a member name of group '/' at heap offset 1000 is not a string "
            "in its local heap (" +
                std::to_string(get(image, heap + 8, 8)) + " bytes) of at most 65536 bytes");
}

TEST(Hdf5Vetting, CyclicGroupReferences) {
  std::string image = sample();
  // The entry of "a/b" in the node of "a" links back to the root group.
  const size_t a = first_member(image, get(image, kRootBtree, 8));
  const size_t node = first_symbol_node(image, group_btree(image, a));
  const uint64_t root = get(image, kRootHeader, 8);
  put(image, node + 16, 8, root);
  EXPECT_EQ(refusal(image), "x.h5: 'a/b' links to the object at byte " + std::to_string(root) +
                                " a second time (a link cycle?); each object of a weights file "
                                "has one link");
}

TEST(Hdf5Vetting, AttributeMessageLongerThanItsHeader) {
  std::string image = sample();
  const size_t a = first_member(image, get(image, kRootBtree, 8));
  const Message attribute = message(image, a, 0x0c);
  const size_t end = attribute.block_end;
  put(image, attribute.at + 2, 2, attribute.size + 800);
  EXPECT_EQ(refusal(image), "x.h5: the attribute message at byte " + std::to_string(attribute.at) +
                                " of 'a' declares " + std::to_string(attribute.size + 800) +
                                " bytes, more than the " + std::to_string(end - attribute.at - 8) +
                                " left in its object header");
}

TEST(Hdf5Vetting, AttributeValueShorterThanItsType) {
  // The attribute message gives its last 8 bytes to a new NIL message: 8 of the 16 bytes of its
  // heap reference are left.
  std::string image = sample();
  const size_t a = first_member(image, get(image, kRootBtree, 8));
  const Message attribute = message(image, a, 0x0c);
  put(image, attribute.at + 2, 2, attribute.size - 8);
  put(image, attribute.at + attribute.size, 8, 0);
  put(image, a + 2, 2, get(image, a + 2, 2) + 1);
  EXPECT_EQ(refusal(image), "x.h5: attribute 'name' of 'a' holds fewer bytes than its type needs");
}

// The variable-length string value of the first attribute of `header`: its length (4), global
// heap collection address (8) and object index (4) follow the name, datatype and dataspace,
// each padded to 8 bytes.
size_t attribute_value(const std::string& image, size_t header) {
  const size_t data = message(image, header, 0x0c).at + 8;
  const auto padded = [](uint64_t n) { return static_cast<size_t>((n + 7) / 8 * 8); };
  return data + 8 + padded(get(image, data + 2, 2)) + padded(get(image, data + 4, 2)) +
         padded(get(image, data + 6, 2));
}

TEST(Hdf5Vetting, GlobalHeapReferenceOutOfRange) {
  const std::string expected =
      "x.h5: attribute 'name' of 'a' refers to a missing or short global heap object";
  std::string image = sample();
  const size_t value = attribute_value(image, first_member(image, get(image, kRootBtree, 8)));
  ASSERT_EQ(get(image, value, 4), 5u);  // "first"
  std::string beyond = image;
  put(beyond, value + 4, 8, image.size() + 4096);
  EXPECT_EQ(refusal(beyond), expected);
  std::string missing = image;
  put(missing, value + 12, 4, 1000);
  EXPECT_EQ(refusal(missing), expected);
  std::string longer = image;
  put(longer, value, 4, 5000);
  EXPECT_EQ(refusal(longer), expected);
}

TEST(Hdf5Vetting, DatasetDataBeyondTheFile) {
  std::string image = sample();
  const size_t a = first_member(image, get(image, kRootBtree, 8));
  const size_t b = first_member(image, group_btree(image, a));
  const size_t dataset = first_member(image, group_btree(image, b));
  const Message layout = message(image, dataset, 0x08);
  put(image, layout.at + 8 + 2, 8, image.size() - 4);  // version, class, then the address
  EXPECT_EQ(refusal(image), "x.h5: dataset 'a/b/0' has 8 bytes of data at byte " +
                                std::to_string(image.size() - 4) +
                                ", beyond the end of the file (" + std::to_string(image.size()) +
                                " bytes)");
}

TEST(Hdf5Vetting, GroupsNestedBeyondTheLimit) {
  Hdf5Limits limits;
  limits.max_depth = 1;
  EXPECT_EQ(message_of<FileError>([&] { parse_weights_h5(bytes_of(sample()), "x.h5", limits); }),
            "x.h5: group 'a/b' is nested more than 1 deep");
  limits = {};
  limits.max_objects = 2;
  EXPECT_EQ(message_of<FileError>([&] { parse_weights_h5(bytes_of(sample()), "x.h5", limits); }),
            "x.h5: holds more than 2 groups and datasets");
}

TEST(Hdf5Vetting, FilesFromAPathAreVettedToo) {
  const fs::path path = fs::temp_directory_path() / "kattn_vetting_truncated.weights.h5";
  write_file_atomically(path, sample().substr(0, 40));
  EXPECT_EQ(message_of<FileError>([&] { load_weights_h5(path); }),
            "HDF5 file '" + path.string() +
                "': truncated superblock (the file has 40 bytes, the superblock needs 96)");
  Hdf5Limits limits;
  limits.max_file_bytes = 39;
  EXPECT_EQ(message_of<FileError>([&] { load_weights_h5(path, limits); }),
            "HDF5 file '" + path.string() + "': is 40 bytes, more than the limit of 39");
  fs::remove(path);
}

}  // namespace
}  // namespace kattn
