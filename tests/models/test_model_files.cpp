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
                         "631 more values. Received: shape (1099511627776, 8).");
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
  const Config config = parse_json_object(
      read_file_bytes(testing::data_dir().parent_path() / "io" / "fuzz_regressions" /
                      "config_json_model_name_number.json"),
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

}  // namespace
}  // namespace kattn
