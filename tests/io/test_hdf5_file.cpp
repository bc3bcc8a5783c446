#include <gtest/gtest.h>
#include <hdf5.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/hdf5_file.hpp"
#include "kattn/io/weight_store.hpp"
#include "kattn/io/zip_archive.hpp"

namespace kattn {
namespace {

using testing::bytes_of;
using testing::message_of;

// An HDF5 file image built with the HDF5 API directly, for content kattn never writes; in the
// newest file format when `latest_format` is set.
std::string raw_image(const std::function<void(hid_t file)>& build, bool latest_format = false) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  if (latest_format) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  const hid_t file = H5Fcreate("/dev/null/kattn-test-image", H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  EXPECT_GE(file, 0);
  build(file);
  H5Fflush(file, H5F_SCOPE_GLOBAL);
  std::string image(static_cast<size_t>(H5Fget_file_image(file, nullptr, 0)), '\0');
  H5Fget_file_image(file, image.data(), image.size());
  H5Fclose(file);
  H5Pclose(fapl);
  return image;
}

// Creates the dataset `path` (parents included) of `type` and `dims`, writing `values` when
// given (an unwritten dataset has no storage).
void raw_dataset(hid_t file, const char* path, hid_t type, std::vector<hsize_t> dims,
                 const void* values = nullptr, hid_t memory_type = H5T_NATIVE_DOUBLE) {
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t space = dims.empty()
                          ? H5Screate(H5S_SCALAR)
                          : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dataset = H5Dcreate2(file, path, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(dataset, 0);
  if (values != nullptr) H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(dataset);
  H5Sclose(space);
  H5Pclose(lcpl);
}

std::string golden_weights_image(const std::string& case_name) {
  return ZipReader::open(testing::data_dir() / "golden" / case_name / "model.keras")
      .read("model.weights.h5");
}

// The properties of an attribute's type that h5py looks at.
struct StringAttributeType {
  bool variable;
  H5T_cset_t cset;
  H5T_str_t pad;
  H5S_class_t space;
  bool operator==(const StringAttributeType&) const = default;
};

StringAttributeType attribute_type(const std::string& image, const char* object) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  std::string copy = image;
  H5Pset_file_image(fapl, copy.data(), copy.size());
  const hid_t file = H5Fopen("/dev/null/kattn-test-read", H5F_ACC_RDONLY, fapl);
  const hid_t attribute = H5Aopen_by_name(file, object, "name", H5P_DEFAULT, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attribute);
  const hid_t space = H5Aget_space(attribute);
  const StringAttributeType result{H5Tis_variable_str(type) > 0, H5Tget_cset(type),
                                   H5Tget_strpad(type), H5Sget_simple_extent_type(space)};
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attribute);
  H5Fclose(file);
  H5Pclose(fapl);
  return result;
}

TEST(Hdf5File, WritesAndReadsGroupsDatasetsAndAttributes) {
  Hdf5File file = Hdf5File::create("test file");
  file.create_group("layers/attention/vars");
  file.write_string_attribute("layers/attention/vars", "name", "luong");
  file.write_float32("layers/attention/vars/0", Tensor(Shape{}, {0.7f}));
  file.write_float32("layers/dense/vars/0", Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  file.write_float32("layers/dense/vars/1", Tensor(Shape{0}));
  file.write_string_attribute("layers/dense/vars", "name", "caf\xc3\xa9");
  const std::string image = file.image();

  const Hdf5File read = Hdf5File::from_image(bytes_of(image), "image");
  std::vector<std::string> listed;
  for (const Hdf5Object& object : read.list()) {
    listed.push_back(object.path + (object.kind == Hdf5ObjectKind::kGroup ? "/" : ""));
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"layers/", "layers/attention/",
                                              "layers/attention/vars/", "layers/attention/vars/0",
                                              "layers/dense/", "layers/dense/vars/",
                                              "layers/dense/vars/0", "layers/dense/vars/1"}));
  const Tensor scale = read.read_float32("layers/attention/vars/0");
  EXPECT_EQ(scale.shape(), Shape{});
  EXPECT_EQ(scale.to_vector(), std::vector<float>{0.7f});
  const Tensor kernel = read.read_float32("/layers/dense/vars/0");
  EXPECT_EQ(kernel.shape(), (Shape{2, 3}));
  EXPECT_EQ(kernel.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read.read_float32("layers/dense/vars/1").shape(), Shape{0});
  EXPECT_EQ(read.read_string_attribute("layers/attention/vars", "name"), "luong");
  EXPECT_EQ(read.read_string_attribute("layers/dense/vars", "name"), "caf\xc3\xa9");
  EXPECT_EQ(read.read_string_attribute("layers/dense", "name"), std::nullopt);
  EXPECT_TRUE(read.exists("layers/dense/vars/0"));
  EXPECT_FALSE(read.exists("layers/dense/vars/2"));
  EXPECT_FALSE(read.exists("layers/dense/vars/0/x"));
}

TEST(Hdf5File, NameAttributeHasTheTypeKerasWrites) {
  const std::string keras = golden_weights_image("attention_self_dot_causal");
  Hdf5File file = Hdf5File::create();
  file.create_group("layers/attention/vars");
  file.write_string_attribute("layers/attention/vars", "name", "luong");
  const StringAttributeType expected{true, H5T_CSET_UTF8, H5T_STR_NULLTERM, H5S_SCALAR};
  EXPECT_EQ(attribute_type(keras, "layers/attention/vars"), expected);
  EXPECT_EQ(attribute_type(file.image(), "layers/attention/vars"), expected);
}

TEST(Hdf5File, ReadsFixedLengthStringAttributes) {
  const std::string image = raw_image([](hid_t file) {
    const hid_t group = H5Gcreate2(file, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 8);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(group, "name", type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, type, "model\0\0\0");
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
    H5Gclose(group);
  });
  EXPECT_EQ(Hdf5File::from_image(bytes_of(image), "x").read_string_attribute("vars", "name"),
            "model");
}

// list() takes the groups' attributes from vetting's walk; what it gives is what libhdf5 reads.
TEST(Hdf5File, ListedAttributesAreWhatLibhdf5Reads) {
  const std::string image = raw_image([](hid_t file) {
    const auto fixed = [&](const char* group_name, H5T_str_t pad, const char* bytes) {
      const hid_t group = H5Gcreate2(file, group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const hid_t type = H5Tcopy(H5T_C_S1);
      H5Tset_size(type, 8);
      H5Tset_strpad(type, pad);
      const hid_t space = H5Screate(H5S_SCALAR);
      const hid_t attribute = H5Acreate2(group, "name", type, space, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(attribute, type, bytes);
      H5Aclose(attribute);
      H5Sclose(space);
      H5Tclose(type);
      H5Gclose(group);
    };
    fixed("nullpad", H5T_STR_NULLPAD, "model\0\0\0");
    fixed("nullterm", H5T_STR_NULLTERM, "luong\0xy");
    fixed("spacepad", H5T_STR_SPACEPAD, "dense   ");
    fixed("full", H5T_STR_NULLPAD, "12345678");
    H5Gclose(H5Gcreate2(file, "none", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  });
  const Hdf5File file = Hdf5File::from_image(bytes_of(image), "x");
  size_t groups = 0;
  for (const Hdf5Object& object : file.list("name")) {
    ++groups;
    EXPECT_EQ(object.attribute, file.read_string_attribute(object.path, "name")) << object.path;
  }
  EXPECT_EQ(groups, 5u);
  for (const char* name : {"attention_self_dot_causal", "mha_self_h2_scores0"}) {
    const std::string keras = golden_weights_image(name);
    const Hdf5File golden = Hdf5File::from_image(bytes_of(keras), name);
    for (const Hdf5Object& object : golden.list("name")) {
      if (object.kind != Hdf5ObjectKind::kGroup) continue;
      EXPECT_EQ(object.attribute, golden.read_string_attribute(object.path, "name")) << object.path;
    }
  }
}

TEST(Hdf5File, ListingRefusesAnAttributeThatIsNoSingleString) {
  const std::string image = raw_image([](hid_t file) {
    const hid_t group = H5Gcreate2(file, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute =
        H5Acreate2(group, "name", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    const int32_t value = 7;
    H5Awrite(attribute, H5T_NATIVE_INT32, &value);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Gclose(group);
  });
  const Hdf5File file = Hdf5File::from_image(bytes_of(image), "x.h5");
  EXPECT_EQ(message_of<FileError>([&] { file.list("name"); }),
            "x.h5: attribute 'name' of 'vars' has dtype int32, expected a string");
  EXPECT_EQ(file.list().size(), 1u);
}

TEST(Hdf5File, ReadsBigEndianFloat32) {
  const std::vector<double> values = {1.5, -2.25};
  const std::string image =
      raw_image([&](hid_t file) { raw_dataset(file, "w", H5T_IEEE_F32BE, {2}, values.data()); });
  EXPECT_EQ(Hdf5File::from_image(bytes_of(image), "x").read_float32("w").to_vector(),
            (std::vector<float>{1.5f, -2.25f}));
}

TEST(Hdf5File, RefusesOtherDtypesByName) {
  const std::vector<double> values = {1.0, 2.0};
  const std::string image = raw_image([&](hid_t file) {
    raw_dataset(file, "layers/attention/vars/0", H5T_IEEE_F64LE, {2}, values.data());
    raw_dataset(file, "seed", H5T_STD_U32LE, {2}, values.data());
  });
  const Hdf5File file = Hdf5File::from_image(bytes_of(image), "weights.h5");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("layers/attention/vars/0"); }),
            "weights.h5: dataset 'layers/attention/vars/0' has dtype float64, expected float32");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("seed"); }),
            "weights.h5: dataset 'seed' has dtype uint32, expected float32");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("layers"); }),
            "weights.h5: 'layers' is not a dataset");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("layers/dense/vars/0"); }),
            "weights.h5: 'layers/dense/vars/0' does not exist ('layers/dense' is missing)");
}

TEST(Hdf5File, RefusesAbsurdShapes) {
  const std::string image = raw_image([](hid_t file) {
    raw_dataset(file, "huge", H5T_IEEE_F32LE, {hsize_t{1} << 20, hsize_t{1} << 20});
    raw_dataset(file, "unwritten", H5T_IEEE_F32LE, {1000, 1000});
  });
  const Hdf5File file = Hdf5File::from_image(bytes_of(image), "weights.h5");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("huge"); }),
            "weights.h5: dataset 'huge' has shape (1048576, 1048576), more than the limit of "
            "17179869184 bytes");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("unwritten"); }),
            "weights.h5: dataset 'unwritten' has shape (1000, 1000) (4000000 bytes) but 0 bytes "
            "of data in the file");
}

TEST(Hdf5File, FollowsOnlyHardLinks) {
  const float value = 1.0f;
  const std::string image = raw_image([&](hid_t file) {
    raw_dataset(file, "real/0", H5T_IEEE_F32LE, {}, &value, H5T_NATIVE_FLOAT);
    H5Lcreate_soft("/real", file, "soft", H5P_DEFAULT, H5P_DEFAULT);
  });
  const Hdf5File file = Hdf5File::from_image(bytes_of(image), "weights.h5");
  EXPECT_EQ(message_of<FileError>([&] { file.read_float32("soft/0"); }),
            "weights.h5: 'soft' is a soft link; only hard links are followed");
  EXPECT_FALSE(file.exists("soft/0"));
  std::vector<std::string> listed;
  for (const Hdf5Object& object : file.list()) listed.push_back(object.path);
  EXPECT_EQ(listed, (std::vector<std::string>{"real", "real/0"}));
}

TEST(Hdf5File, RefusesWhatH5pyDoesNotWrite) {
  // An external link turns its group into one of link messages, which Keras files never hold.
  const std::string external = raw_image([](hid_t file) {
    H5Lcreate_external("/etc/passwd", "/x", file, "external", H5P_DEFAULT, H5P_DEFAULT);
  });
  EXPECT_EQ(message_of<FileError>([&] { Hdf5File::from_image(bytes_of(external), "weights.h5"); }),
            "weights.h5: group '/' keeps its members in link messages (the newer group format); "
            "kattn reads symbol table groups, which h5py and kattn write");
  const std::string latest = raw_image(
      [](hid_t file) { H5Gclose(H5Gcreate2(file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); },
      /*latest_format=*/true);
  EXPECT_EQ(message_of<FileError>([&] { Hdf5File::from_image(bytes_of(latest), "weights.h5"); }),
            "weights.h5: superblock version 3 is not read (h5py and kattn write version 0)");
  const std::string chunked = raw_image([](hid_t file) {
    const hsize_t dims[] = {4};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, dims);
    H5Dclose(H5Dcreate2(file, "c", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Pclose(dcpl);
    H5Sclose(space);
  });
  EXPECT_EQ(message_of<FileError>([&] { Hdf5File::from_image(bytes_of(chunked), "weights.h5"); }),
            "weights.h5: dataset 'c' is chunked; kattn reads contiguous and compact datasets, as "
            "h5py writes them");
}

TEST(Hdf5File, TruncatedImage) {
  const std::string image = golden_weights_image("attention_self_dot_causal");
  const std::string half = image.substr(0, image.size() / 2);
  EXPECT_EQ(message_of<FileError>([&] { Hdf5File::from_image(bytes_of(half), "weights.h5"); }),
            "weights.h5: truncated (the file ends before the data its superblock describes)");
}

TEST(Hdf5File, NotHdf5) {
  EXPECT_EQ(message_of<FileError>([] { Hdf5File::from_image(bytes_of("hello"), "weights.h5"); }),
            "weights.h5: not an HDF5 file (no HDF5 signature)");
  EXPECT_EQ(message_of<FileError>([] { Hdf5File::from_image(std::string(), "weights.h5"); }),
            "weights.h5: not an HDF5 file (it is empty)");
  EXPECT_EQ(message_of<FileError>([] { Hdf5File::open("/nonexistent/x.weights.h5"); }),
            "HDF5 file '/nonexistent/x.weights.h5': no such file");
}

TEST(Hdf5File, CorruptGlobalHeapIsNeverReadByHdf5) {
  // Found by fuzz_weights_h5: HDF5 1.10 copies heap objects of any declared size; kattn reads
  // variable-length strings from its own index of the heap instead.
  const std::string image = read_file_bytes(testing::data_dir().parent_path() / "io" /
                                            "fuzz_regressions" / "h5_global_heap_oversized.h5");
  EXPECT_EQ(message_of<FileError>([&] { parse_weights_h5(bytes_of(image), "weights.h5"); }),
            "weights.h5: attribute 'name' of 'layers/input_layer/vars' refers to a missing or "
            "short global heap object");
}

TEST(Hdf5File, NameWithANulCharacterEndsThere) {
  // Found by fuzz_weights_h5: a heap string "input_layer\0..." was loaded whole, then could not
  // be written back.
  WeightStore store;
  store.add_group("vars", "input_layer");
  std::string image = weights_h5_bytes(store);
  image[image.find("input_layer") + 5] = '\0';
  const WeightStore read = parse_weights_h5(bytes_of(image), "x.h5");
  EXPECT_EQ(read.group_name("vars"), "input");
  EXPECT_EQ(parse_weights_h5(bytes_of(weights_h5_bytes(read)), "y.h5").groups(), read.groups());
}

TEST(Hdf5File, VariableLengthStringsOfAnyLength) {
  Hdf5File file = Hdf5File::create();
  const std::string long_name(5000, 'x');
  file.create_group("a");
  file.create_group("b");
  file.write_string_attribute("a", "name", "");
  file.write_string_attribute("b", "name", long_name);
  file.write_string_attribute("b", "other", "second");
  const std::string image = file.image();
  const Hdf5File read = Hdf5File::from_image(bytes_of(image), "x");
  EXPECT_EQ(read.read_string_attribute("a", "name"), "");
  EXPECT_EQ(read.read_string_attribute("b", "name"), long_name);
  EXPECT_EQ(read.read_string_attribute("b", "other"), "second");
}

TEST(Hdf5File, WritingNeedsACreatedFile) {
  const std::string image = golden_weights_image("attention_self_dot_causal");
  Hdf5File file = Hdf5File::from_image(bytes_of(image), "weights.h5");
  EXPECT_EQ(message_of<FileError>([&] { file.create_group("x"); }),
            "weights.h5: is open read-only; only files from Hdf5File::create are written");
}

TEST(Hdf5File, RefusesBadPathsAndDuplicateDatasets) {
  Hdf5File file = Hdf5File::create("new file");
  file.write_float32("a/0", Tensor(Shape{}));
  EXPECT_EQ(message_of<FileError>([&] { file.write_float32("a/0", Tensor(Shape{})); }),
            "new file: cannot write dataset 'a/0': it exists already");
  EXPECT_EQ(message_of<FileError>([&] { file.write_float32("a//1", Tensor(Shape{})); }),
            "new file: invalid path 'a//1' (empty, '.' or '..' component)");
  EXPECT_EQ(message_of<FileError>([&] { file.create_group("a/0/b"); }),
            "new file: 'a/0' is not a group");
}

TEST(Hdf5File, ConcurrentReadersAreSerialised) {
  const std::string image = golden_weights_image("mha_4d_axes12_self");
  const WeightStore expected = parse_weights_h5(bytes_of(image), "weights.h5");
  std::vector<std::thread> threads;
  std::vector<int> matches(4, 0);
  for (size_t t = 0; t < matches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const WeightStore store = parse_weights_h5(bytes_of(image), "weights.h5");
        matches[t] += store.groups() == expected.groups() &&
                      store.datasets().size() == expected.datasets().size();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(matches, (std::vector<int>{10, 10, 10, 10}));
}

TEST(Hdf5File, LeavesHdf5ErrorPrintingAsItWas) {
  H5E_auto2_t before = nullptr;
  void* before_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &before, &before_data);
  EXPECT_THROW(Hdf5File::from_image(bytes_of("not hdf5"), "x"), FileError);
  H5E_auto2_t after = nullptr;
  void* after_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &after, &after_data);
  EXPECT_EQ(before, after);
  EXPECT_EQ(before_data, after_data);
}

}  // namespace
}  // namespace kattn
