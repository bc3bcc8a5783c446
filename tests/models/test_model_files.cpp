// Model files from strangers: standalone weights files, weights that do not fit the model,
// configs that declare more weights than the file holds or name what kattn does not support.
#include <gtest/gtest.h>

#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/io/zip_archive.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::golden_models_dir;
using testing::message_of;

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("kattn_model_files_" + name);
}

// A model built from Keras's config with fresh weights, then given Keras's weights from a
// standalone .weights.h5 file, computes Keras's outputs.
TEST(ModelFiles, LoadsAStandaloneWeightsFile) {
  const std::filesystem::path dir = golden_models_dir() / "text_dot";
  const KerasArchive archive = load_keras_archive(dir / "model.keras");
  const std::filesystem::path weights = scratch("text_dot.weights.h5");
  save_weights_h5(weights, archive.weights);
  Model model = Model::from_config(archive.config);
  model.load_weights(weights);
  std::filesystem::remove(weights);
  const Tensor output =
      std::get<Tensor>(model
                           .predict({std::get<Int32Tensor>(read_npy(dir / "query_tokens.npy")),
                                     std::get<Int32Tensor>(read_npy(dir / "value_tokens.npy"))})
                           .front());
  const Tensor expected = read_npy_tensor(dir / "output_0_similarity.npy");
  ASSERT_EQ(output.shape(), expected.shape());
  for (int64_t i = 0; i < output.size(); ++i) {
    EXPECT_NEAR(output.data()[i], expected.data()[i], 1e-5);
  }

  const std::filesystem::path written = scratch("written.weights.h5");
  model.save_weights(written);
  const WeightStore store = load_weights_h5(written);
  std::filesystem::remove(written);
  EXPECT_EQ(store.datasets().size(), archive.weights.datasets().size());
}

TEST(ModelFiles, WeightsThatDoNotFitAreRefusedByPath) {
  const KerasArchive archive = load_keras_archive(golden_models_dir() / "text_dot" / "model.keras");
  Model model = Model::from_config(archive.config);

  WeightStore missing = archive.weights;
  WeightStore without;
  for (const auto& [path, value] : missing.datasets()) {
    if (path != "layers/dense/vars/1") without.set(path, value);
  }
  EXPECT_EQ(message_of<FileError>([&] { model.load_weights(without); }),
            "weights: dataset 'layers/dense/vars/1' for weight 'hidden/bias' is missing");

  WeightStore wrong_shape = archive.weights;
  wrong_shape.set("layers/conv1d/vars/0", Tensor({4, 8, 5}));
  EXPECT_EQ(message_of<FileError>([&] { model.load_weights(wrong_shape); }),
            "weights: dataset 'layers/conv1d/vars/0' has shape (4, 8, 5), expected (4, 8, 6) "
            "for weight 'cnn/kernel'");

  WeightStore extra = archive.weights;
  extra.set("layers/dense_7/vars/0", Tensor({2}));
  EXPECT_EQ(message_of<FileError>([&] { model.load_weights(extra); }),
            "weights: dataset 'layers/dense_7/vars/0' belongs to no weight of model "
            "'text_similarity'");
}

// A config.json declaring a gigantic layer fails before anything of that size is allocated.
TEST(ModelFiles, ConfigsDeclaringMoreWeightsThanTheFileHoldsAreRefused) {
  KerasArchive archive = load_keras_archive(golden_models_dir() / "text_dot" / "model.keras");
  for (Config& layer : archive.config["config"]["layers"]) {
    if (layer["name"] == "token_embedding") layer["config"]["input_dim"] = int64_t{1} << 40;
  }
  const std::filesystem::path path = scratch("huge.keras");
  save_keras_archive(path, archive);
  const std::string message = message_of<FileError>([&] { load_model(path); });
  std::filesystem::remove(path);
  EXPECT_EQ(message, "zip archive '" + path.string() +
                         "': member 'config.json': Embedding 'token_embedding': weight "
                         "`embeddings` is larger than the weights file holds. Expected at most "
                         "8086 more values. Received: shape (1099511627776, 8).");
}

TEST(ModelFiles, AnUnsupportedInputDtypeIsRefusedByLayerName) {
  // Found by fuzz_config_json: the message named the layer through a dangling string view.
  const Config config = parse_json_object(
      read_file_bytes(testing::data_dir().parent_path() / "io" / "fuzz_regressions" /
                      "config_json_input_layer_dangling_name.json"),
      "config.json");
  EXPECT_EQ(message_of<NotSupportedError>([&] { Model::from_config(config); }),
            "InputLayer 'value_tokens': unsupported input dtype. Expected one of float32, int32, "
            "bool. Received: dtype=int33.");
}

TEST(ModelFiles, MistypedConfigEntriesAreValueErrors) {
  // Found by fuzz_config_json: a model name of 2 escaped as a JSON library exception.
  const Config config =
      parse_json_object(read_file_bytes(testing::data_dir().parent_path() / "io" /
                                        "fuzz_regressions" / "config_json_model_name_number.json"),
                        "config.json");
  EXPECT_EQ(message_of<ValueError>([&] { Model::from_config(config); }),
            "Functional: invalid config at config.name. Expected a string. Received: 2.");
  // Entries of any JSON type where objects or strings belong.
  const Config odd_layers = {{"class_name", "Functional"},
                             {"config", {{"layers", {7, {{"class_name", 3}, {"name", {1}}}}}}}};
  EXPECT_EQ(message_of<ValueError>([&] { Model::from_config(odd_layers); }),
            "Functional 'functional': invalid config at config.layers[0]. Expected an object with "
            "a class_name string. Received: 7.");
}

TEST(ModelFiles, MissingMembersAndBadWeightsNameTheMember) {
  const std::filesystem::path source = golden_models_dir() / "text_dot" / "model.keras";
  KerasArchive archive = load_keras_archive(source);
  archive.weights.set("layers/dense_1/vars/0", Tensor({8, 2}));
  const std::filesystem::path path = scratch("bad_weights.keras");
  save_keras_archive(path, archive);
  const std::string message = message_of<FileError>([&] { load_model(path); });
  std::filesystem::remove(path);
  EXPECT_EQ(message, "zip archive '" + path.string() +
                         "': member 'model.weights.h5': dataset 'layers/dense_1/vars/0' has "
                         "shape (8, 2), expected (8, 1) for weight 'similarity/kernel'");
}

TEST(ModelFiles, AMissingDatasetIsNamedNotTheConfig) {
  const std::filesystem::path source = golden_models_dir() / "text_dot" / "model.keras";
  KerasArchive archive = load_keras_archive(source);
  WeightStore without;
  for (const auto& [path, name] : archive.weights.groups()) without.add_group(path, name);
  for (const auto& [path, value] : archive.weights.datasets()) {
    if (path != "layers/dense/vars/1") without.set(path, value);
  }
  archive.weights = without;
  const std::filesystem::path path = scratch("missing_dataset.keras");
  save_keras_archive(path, archive);
  const std::string message = message_of<FileError>([&] { load_model(path); });
  std::filesystem::remove(path);
  EXPECT_EQ(message, "zip archive '" + path.string() +
                         "': member 'model.weights.h5': dataset 'layers/dense/vars/1' for weight "
                         "'hidden/bias' is missing");
}

TEST(ModelFiles, AWeightsFileFarLargerThanTheConfigsWeightsIsNotInflated) {
  // A deflated model.weights.h5 that would inflate to 64 MiB, for a model of a few thousand
  // values: refused on its declared size, before a byte is inflated.
  const std::filesystem::path source = golden_models_dir() / "text_dot" / "model.keras";
  const ZipReader original = ZipReader::open(source);
  std::string weights = original.read("model.weights.h5");
  weights.resize(size_t{64} << 20, '\0');
  const std::vector<ZipEntry> entries = {
      {"metadata.json", original.read("metadata.json"), ZipCompression::kStored},
      {"config.json", original.read("config.json"), ZipCompression::kStored},
      {"model.weights.h5", std::move(weights), ZipCompression::kDeflated}};
  const std::filesystem::path path = scratch("weights_bomb.keras");
  write_zip(path, entries);
  const std::string message = message_of<FileError>([&] { load_model(path); });
  std::filesystem::remove(path);
  EXPECT_EQ(message.find("zip archive '" + path.string() +
                         "': member 'model.weights.h5' declares 67108864 bytes, more than the "),
            0u)
      << message;
  EXPECT_NE(message.find(" that the weights of the model config.json describes take"),
            std::string::npos)
      << message;
}

// Files a user edited with h5py (tests/data/h5py_edited/README.md): string attributes rewritten
// in place, a weight recreated with a committed (named) datatype. Both load as Keras loads them.
TEST(ModelFiles, WeightsFilesEditedWithH5pyLoad) {
  const std::filesystem::path golden = golden_models_dir() / "text_dot_maskzero";
  for (const char* file : {"attribute_rewritten.keras", "committed_dtype.keras"}) {
    const Model model = load_model(testing::data_dir() / "h5py_edited" / file);
    const std::vector<AnyTensor> outputs =
        model.predict({std::get<Int32Tensor>(read_npy(golden / "query_tokens.npy")),
                       std::get<Int32Tensor>(read_npy(golden / "value_tokens.npy"))});
    const Tensor expected = read_npy_tensor(golden / "output_0_similarity.npy");
    const Tensor& actual = std::get<Tensor>(outputs.at(0));
    ASSERT_EQ(actual.shape(), expected.shape()) << file;
    const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], e[i], 1e-5) << file << " " << i;
  }
}

TEST(ModelFiles, NamesWithASlashAreRefusedAsKerasRefusesThem) {
  KerasArchive archive = load_keras_archive(golden_models_dir() / "text_dot" / "model.keras");
  for (Config& layer : archive.config["config"]["layers"]) {
    if (layer["name"] == "similarity") {
      layer["name"] = "x/../../PWNED";
      layer["config"]["name"] = "x/../../PWNED";
    }
  }
  EXPECT_EQ(message_of<ValueError>([&] { Model::from_config(archive.config); }),
            "Dense 'x/../../PWNED': invalid `name`. Expected a name without the character `/`. "
            "Received: name=x/../../PWNED.");
}

}  // namespace
}  // namespace kattn
