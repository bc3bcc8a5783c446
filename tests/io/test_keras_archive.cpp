#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/json.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"

namespace kattn {
namespace {

using testing::bytes_of;
using testing::message_of;
namespace fs = std::filesystem;

std::vector<fs::path> case_dirs(const std::string& set) {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(testing::data_dir() / set)) {
    if (fs::exists(entry.path() / "case.json")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

Config read_case(const fs::path& dir) {
  return parse_json_object(read_file_bytes(dir / "case.json"), (dir / "case.json").string());
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  const std::vector<float> x = a.to_vector();
  const std::vector<float> y = b.to_vector();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Everything in `b` equals `a`: config, metadata, groups with their names, datasets bit for bit.
void expect_same_archive(const KerasArchive& a, const KerasArchive& b) {
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.weights.groups(), b.weights.groups());
  ASSERT_EQ(a.weights.datasets().size(), b.weights.datasets().size());
  for (const auto& [path, value] : a.weights.datasets()) {
    const Tensor* other = b.weights.find(path);
    ASSERT_NE(other, nullptr) << path;
    EXPECT_TRUE(same_bits(value, *other)) << path;
  }
}

std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Every layer-level golden case: each weight in case.json is the dataset it names, equal to its
// .npy file; the vars group holding it carries the (sub-)layer's name.
TEST(KerasArchive, EveryGoldenLayerArchiveLoadsWithItsWeights) {
  int64_t archives = 0;
  int64_t weights = 0;
  for (const fs::path& dir : case_dirs("golden")) {
    SCOPED_TRACE(dir.filename().string());
    const Config manifest = read_case(dir);
    const KerasArchive archive = load_keras_archive(dir / "model.keras");
    ++archives;
    EXPECT_EQ(archive.metadata["keras_version"], manifest["keras_version"]);
    EXPECT_EQ(archive.config["class_name"], "Functional");
    const Config& layers = archive.config["config"]["layers"];
    EXPECT_TRUE(std::any_of(layers.begin(), layers.end(), [&](const Config& layer) {
      return layer["class_name"] == manifest["serialized_class_name"];
    }));
    EXPECT_EQ(archive.weights.datasets().size(), manifest["weights"].size());
    for (const Config& weight : manifest["weights"]) {
      const std::string dataset = weight["h5_dataset"];
      const Tensor* value = archive.weights.find(dataset);
      ASSERT_NE(value, nullptr) << dataset;
      EXPECT_TRUE(same_bits(*value, read_npy_tensor(dir / weight["file"].get<std::string>())))
          << dataset;
      const std::string path = weight["path"];
      const std::string layer = parent_of(path).substr(parent_of(path).rfind('/') + 1);
      EXPECT_EQ(archive.weights.group_name(parent_of(dataset)), layer) << dataset;
      ++weights;
    }
  }
  EXPECT_GE(archives, 300);
  EXPECT_GE(weights, 500);
}

class GoldenModel : public ::testing::TestWithParam<std::string> {};

// Every model-level golden archive: each weight in case.json has its dataset with its shape, and
// every layer's vars group carries the layer's name.
TEST_P(GoldenModel, LoadsWithEveryListedWeight) {
  const fs::path dir = testing::data_dir() / "golden-models" / GetParam();
  const Config manifest = read_case(dir);
  const KerasArchive archive = load_keras_archive(dir / "model.keras");
  EXPECT_EQ(archive.config["config"]["name"], manifest["model_name"]);
  EXPECT_EQ(archive.weights.datasets().size(), manifest["weights"].size());
  for (const Config& weight : manifest["weights"]) {
    const Tensor* value = archive.weights.find(weight["h5_dataset"].get<std::string>());
    ASSERT_NE(value, nullptr) << weight["h5_dataset"];
    EXPECT_EQ(value->shape(), weight["shape"].get<Shape>()) << weight["h5_dataset"];
  }
  for (const Config& layer : manifest["layers"]) {
    const std::string group = layer["h5_group"].get<std::string>() + "/vars";
    EXPECT_EQ(archive.weights.group_name(group), layer["name"].get<std::string>()) << group;
    // num_weights counts the variables of sub-layers too (MultiHeadAttention's query_dense...).
    const std::string prefix = layer["h5_group"].get<std::string>() + "/";
    const auto datasets =
        std::count_if(archive.weights.datasets().begin(), archive.weights.datasets().end(),
                      [&](const auto& entry) { return entry.first.starts_with(prefix); });
    EXPECT_EQ(static_cast<int64_t>(datasets), layer["num_weights"].get<int64_t>()) << group;
  }
  EXPECT_EQ(archive.weights.group_name("vars"), manifest["model_name"].get<std::string>());
}

std::vector<std::string> golden_model_names() {
  std::vector<std::string> names;
  for (const fs::path& dir : case_dirs("golden-models")) names.push_back(dir.filename().string());
  return names;
}

INSTANTIATE_TEST_SUITE_P(GoldenModels, GoldenModel, ::testing::ValuesIn(golden_model_names()),
                         [](const auto& test) { return test.param; });

class KerasArchiveFiles : public testing::TempDirTest {};

TEST_F(KerasArchiveFiles, SaveThenLoadRoundTripsEveryGoldenModel) {
  for (const std::string& name : golden_model_names()) {
    SCOPED_TRACE(name);
    const KerasArchive original =
        load_keras_archive(testing::data_dir() / "golden-models" / name / "model.keras");
    const fs::path path = dir_ / "model.keras";
    save_keras_archive(path, original);
    expect_same_archive(original, load_keras_archive(path));
    EXPECT_EQ(files(), std::vector<std::string>{"model.keras"});
  }
}

TEST_F(KerasArchiveFiles, SaveThenLoadRoundTripsLayerArchives) {
  for (const char* name : {"attention_concat_scale1_key0_qm0_vm0_causal1_scores0", "additive_4d",
                           "mha_4d_axes12_self"}) {
    SCOPED_TRACE(name);
    const KerasArchive original =
        load_keras_archive(testing::data_dir() / "golden" / name / "model.keras");
    for (ZipCompression compression : {ZipCompression::kStored, ZipCompression::kDeflated}) {
      const fs::path path = dir_ / "model.keras";
      save_keras_archive(path, original, compression);
      const ZipReader zip = ZipReader::open(path);
      ASSERT_EQ(zip.members().size(), 3u);
      EXPECT_EQ(zip.members()[0].name, "metadata.json");
      EXPECT_EQ(zip.members()[1].name, "config.json");
      EXPECT_EQ(zip.members()[2].name, "model.weights.h5");
      EXPECT_EQ(zip.members()[2].compression, compression);
      expect_same_archive(original, load_keras_archive(path));
    }
  }
}

TEST_F(KerasArchiveFiles, SavingIsDeterministic) {
  const KerasArchive archive = load_keras_archive(testing::data_dir() / "golden" /
                                                  "attention_self_dot_causal" / "model.keras");
  EXPECT_EQ(keras_archive_bytes(archive), keras_archive_bytes(archive));
}

TEST_F(KerasArchiveFiles, MissingMetadataIsWrittenAsKerasWould) {
  KerasArchive archive;
  archive.config = {{"class_name", "Functional"}, {"config", Config::object()}};
  archive.weights.add_group("vars", "empty_model");
  archive.weights.add_group("layers");
  save_keras_archive(dir_ / "model.keras", archive);
  const KerasArchive loaded = load_keras_archive(dir_ / "model.keras");
  EXPECT_EQ(loaded.metadata["keras_version"], "3.16.0");
  EXPECT_TRUE(loaded.metadata["date_saved"].is_string());
  EXPECT_EQ(loaded.weights.group_name("vars"), "empty_model");
  EXPECT_TRUE(loaded.weights.groups().contains("layers"));
}

TEST_F(KerasArchiveFiles, FailedSavesLeaveNoFile) {
  const KerasArchive archive =
      load_keras_archive(testing::data_dir() / "golden" / "mha_4d_axes12_self" / "model.keras");
  EXPECT_THROW(save_keras_archive(dir_ / "missing" / "model.keras", archive), FileError);
  EXPECT_THROW(save_weights_h5(dir_ / "missing" / "model.weights.h5", archive.weights), FileError);
  KerasArchive bad = archive;
  bad.config = Config::array({1, 2});
  EXPECT_EQ(message_of<ValueError>([&] { save_keras_archive(dir_ / "model.keras", bad); }),
            "KerasArchive: config must be a JSON object. Received: config=[1,2]");
  bad = archive;
  bad.weights.set("layers/multi_head_attention/query_dense/vars/0/x", Tensor(Shape{}));
  EXPECT_EQ(message_of<FileError>([&] { save_keras_archive(dir_ / "model.keras", bad); }),
            "zip archive '" + (dir_ / "model.keras").string() +
                "': member 'model.weights.h5': 'layers/multi_head_attention/query_dense/vars/0' "
                "is not a group");
  EXPECT_TRUE(files().empty());
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

TEST_F(KerasArchiveFiles, SavingReplacesAnExistingFileWhole) {
  const KerasArchive archive = load_keras_archive(testing::data_dir() / "golden" /
                                                  "attention_self_dot_causal" / "model.keras");
  write_file_atomically(dir_ / "model.keras", "old content");
  save_keras_archive(dir_ / "model.keras", archive);
  expect_same_archive(archive, load_keras_archive(dir_ / "model.keras"));
  EXPECT_EQ(files(), std::vector<std::string>{"model.keras"});
}

TEST_F(KerasArchiveFiles, StandaloneWeightsFilesRoundTrip) {
  const KerasArchive archive =
      load_keras_archive(testing::data_dir() / "golden-models" / "dec_cross" / "model.keras");
  save_weights_h5(dir_ / "model.weights.h5", archive.weights);
  const WeightStore loaded = load_weights_h5(dir_ / "model.weights.h5");
  EXPECT_EQ(loaded.groups(), archive.weights.groups());
  for (const auto& [path, value] : archive.weights.datasets()) {
    ASSERT_TRUE(loaded.contains(path)) << path;
    EXPECT_TRUE(same_bits(value, loaded.at(path))) << path;
  }
  EXPECT_EQ(message_of<ValueError>([&] { loaded.at("layers/none/vars/0"); }),
            "WeightStore: no dataset 'layers/none/vars/0'");
}

// --- Malformed archives: each names the archive and the member.

std::string archive_with(std::string_view metadata, std::string_view config,
                         const std::string& weights) {
  std::vector<ZipEntry> entries;
  if (!metadata.empty()) entries.push_back({"metadata.json", std::string(metadata)});
  if (!config.empty()) entries.push_back({"config.json", std::string(config)});
  if (!weights.empty()) entries.push_back({"model.weights.h5", weights});
  return make_zip(entries, "test");
}

std::string small_weights() {
  WeightStore store;
  store.add_group("layers/attention/vars", "luong");
  store.set("layers/attention/vars/0", Tensor(Shape{}, {0.7f}));
  return weights_h5_bytes(store);
}

std::string load_error(const std::string& bytes) {
  return message_of<FileError>([&] { parse_keras_archive(bytes_of(bytes), "model.keras"); });
}

constexpr std::string_view kMetadata = R"({"keras_version": "3.16.0"})";
constexpr std::string_view kConfig = R"({"class_name": "Functional"})";

TEST(KerasArchiveErrors, MissingMember) {
  EXPECT_EQ(load_error(archive_with(kMetadata, "", small_weights())),
            "zip archive 'model.keras': member 'config.json' is missing");
  EXPECT_EQ(load_error(archive_with(kMetadata, kConfig, "")),
            "zip archive 'model.keras': member 'model.weights.h5' is missing");
}

TEST(KerasArchiveErrors, MalformedConfigJson) {
  EXPECT_EQ(load_error(archive_with(kMetadata, R"({"class_name": Functional})", small_weights())),
            "zip archive 'model.keras': member 'config.json': malformed JSON at byte 15: syntax "
            "error while parsing value - invalid literal; last read: '\"class_name\": F'");
}

TEST(KerasArchiveErrors, InflatedJsonBeyondItsLimitIsRefusedBeforeInflating) {
  // Deflated whitespace after valid JSON: a few kilobytes that inflate far beyond what Keras
  // writes.
  const auto padded = [](std::string_view json, size_t size) {
    std::string text(json);
    text.resize(size, ' ');
    return text;
  };
  const auto bomb = [&](const std::string& member, std::string_view json, size_t size) {
    std::vector<ZipEntry> entries = {
        {"metadata.json", std::string(kMetadata), ZipCompression::kStored},
        {"config.json", std::string(kConfig), ZipCompression::kStored},
        {"model.weights.h5", small_weights(), ZipCompression::kStored}};
    for (ZipEntry& entry : entries) {
      if (entry.name == member) entry = {member, padded(json, size), ZipCompression::kDeflated};
    }
    return make_zip(entries, "test");
  };
  EXPECT_EQ(load_error(bomb("config.json", kConfig, (size_t{1} << 22) + 1)),
            "zip archive 'model.keras': member 'config.json' declares 4194305 bytes, more than "
            "the 4194304 a config.json may hold");
  EXPECT_EQ(load_error(bomb("metadata.json", kMetadata, (size_t{1} << 20) + 1)),
            "zip archive 'model.keras': member 'metadata.json' declares 1048577 bytes, more than "
            "the 1048576 a metadata.json may hold");
  // At the limit, read.
  EXPECT_NO_THROW(
      parse_keras_archive(bytes_of(bomb("config.json", kConfig, size_t{1} << 22)), "model.keras"));
}

TEST(KerasArchiveErrors, ConfigOfTheWrongShape) {
  EXPECT_EQ(load_error(archive_with(kMetadata, "[1, 2, 3]", small_weights())),
            "zip archive 'model.keras': member 'config.json': expected a JSON object at the top "
            "level, found an array");
}

TEST(KerasArchiveErrors, WeightOfTheWrongDtype) {
  const double value = 0.7;
  const std::string weights = [&] {
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    const hid_t file = H5Fcreate("/dev/null/kattn-dtype-test", H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t dataset = H5Dcreate2(file, "layers/attention/vars/0", H5T_IEEE_F64LE, space, lcpl,
                                     H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    H5Dclose(dataset);
    H5Sclose(space);
    H5Pclose(lcpl);
    H5Fflush(file, H5F_SCOPE_GLOBAL);
    std::string image(static_cast<size_t>(H5Fget_file_image(file, nullptr, 0)), '\0');
    H5Fget_file_image(file, image.data(), image.size());
    H5Fclose(file);
    H5Pclose(fapl);
    return image;
  }();
  EXPECT_EQ(load_error(archive_with(kMetadata, kConfig, weights)),
            "zip archive 'model.keras': member 'model.weights.h5': dataset "
            "'layers/attention/vars/0' has dtype float64, expected float32");
}

TEST(KerasArchiveErrors, TruncatedWeights) {
  const std::string weights = small_weights();
  EXPECT_EQ(load_error(archive_with(kMetadata, kConfig, weights.substr(0, weights.size() / 2))),
            "zip archive 'model.keras': member 'model.weights.h5': truncated (the file ends "
            "before the data its superblock describes)");
}

TEST(KerasArchiveErrors, TruncatedAndForeignFiles) {
  const std::string bytes =
      read_file_bytes(testing::data_dir() / "golden" / "attention_self_dot_causal" / "model.keras");
  EXPECT_EQ(load_error(bytes.substr(0, bytes.size() - 100)),
            "zip archive 'model.keras': truncated (the end of central directory record is "
            "missing)");
  EXPECT_EQ(load_error(std::string(kConfig)), "zip archive 'model.keras': not a zip archive");
}

TEST(KerasArchiveErrors, CorruptMember) {
  std::string bytes = archive_with(kMetadata, kConfig, small_weights());
  const size_t at = bytes.find("Functional");
  bytes[at] = 'f';
  EXPECT_EQ(load_error(bytes),
            "zip archive 'model.keras': member 'config.json' is corrupt (CRC mismatch)");
}

}  // namespace
}  // namespace kattn
