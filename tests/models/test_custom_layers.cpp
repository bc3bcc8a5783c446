// Custom layers: the registry, the golden zoo's TokenAndPositionEmbedding and TransformerBlock
// (examples/custom_layer/, registered for this suite) loading, saving and training as Keras's
// do, the library kattn --custom-layers loads, and the refusals.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "error_test_util.hpp"
#include "kattn/core/random.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/custom_layers.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"
#include "models/model_test_util.hpp"
#include "zoo_layers.hpp"

namespace kattn {
namespace {

using testing::message_of;

// Registered before any test of the suite runs: the golden cases with custom layers need them.
class ZooLayers : public ::testing::Environment {
 public:
  void SetUp() override { zoo::register_layers(); }
};
const auto* const kZooLayers = ::testing::AddGlobalTestEnvironment(new ZooLayers);

const std::filesystem::path kZoo = testing::data_dir() / "golden-zoo";

TEST(CustomLayers, AreRegisteredByTheirRegisteredNames) {
  const std::vector<std::string> names = registered_custom_layers();
  EXPECT_NE(std::find(names.begin(), names.end(), "zoo>TransformerBlock"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "zoo>TokenAndPositionEmbedding"), names.end());
}

TEST(CustomLayers, LoadAndSaveAsKerasSavedThem) {
  const KerasArchiveReader file =
      KerasArchiveReader::open(kZoo / "custom_text_transformer/model.keras");
  const Model model = load_model(kZoo / "custom_text_transformer/model.keras");
  EXPECT_EQ(model.to_config(), testing::without_shared_ids(file.config()));
  const WeightStore ours = model.weight_store();
  const WeightStore keras = file.read_weights(size_t{1} << 20, "a test");
  std::vector<std::string> our_paths, keras_paths;
  for (const auto& [path, value] : ours.datasets()) our_paths.push_back(path);
  for (const auto& [path, value] : keras.datasets()) keras_paths.push_back(path);
  EXPECT_EQ(our_paths, keras_paths);
  const std::string summary = model.summary();
  EXPECT_NE(summary.find("transformer_block (TransformerBlock)"), std::string::npos) << summary;
}

TEST(CustomLayers, AnUnregisteredClassIsRefusedSayingHowToRegisterIt) {
  const std::string message = message_of<NotSupportedError>(
      [] { load_model(kZoo / "error_unregistered_custom_layer/model.keras"); });
  EXPECT_NE(message.find("GatedSkip 'gated_skip': unregistered custom layer class GatedSkip "
                         "(registered_name 'zoo>GatedSkip', module null). Expected a class "
                         "registered in C++ with kattn::register_custom_layer(\"zoo>GatedSkip\", "
                         "factory), or a library that registers it given to kattn as "
                         "--custom-layers LIB.so"),
            std::string::npos)
      << message;
}

TEST(CustomLayers, RegistryRefusesNamesWithoutAPackageAndEmptyFactories) {
  EXPECT_EQ(message_of<ValueError>([] {
              register_custom_layer("TransformerBlock",
                                    [](const Config&) { return std::shared_ptr<Operation>(); });
            }),
            "register_custom_layer 'TransformerBlock': invalid registered name. Expected "
            "\"package>ClassName\", as register_keras_serializable writes it. Received: "
            "'TransformerBlock'.");
  EXPECT_EQ(message_of<ValueError>([] { register_custom_layer("zoo>Nothing", nullptr); }),
            "register_custom_layer 'zoo>Nothing': no factory. Expected a function making the "
            "layer from its config. Received: an empty function.");
}

TEST(CustomLayers, LibrariesThatCannotBeLoadedAreRefusedByName) {
  const std::string missing =
      message_of<FileError>([] { load_custom_layers("/nonexistent/libzoo.so"); });
  EXPECT_NE(missing.find("custom layer library '/nonexistent/libzoo.so': cannot be loaded"),
            std::string::npos)
      << missing;
}

TEST(CustomLayers, ConfigsRoundTripAndArgumentsAreChecked) {
  const zoo::TransformerBlock block({.embed_dim = 8, .num_heads = 2, .ff_dim = 4, .rate = 0.2});
  const std::shared_ptr<zoo::TransformerBlock> again =
      zoo::TransformerBlock::from_config(block.get_config());
  EXPECT_EQ(again->get_config(), block.get_config());
  Config unknown = block.get_config();
  unknown["key_dim"] = 3;
  EXPECT_NE(
      message_of<ValueError>([&] { zoo::TransformerBlock::from_config(unknown); }).find("key_dim"),
      std::string::npos);
  EXPECT_NE(message_of<ValueError>([] {
              zoo::TransformerBlock({.embed_dim = 0});
            }).find("invalid `embed_dim`"),
            std::string::npos);
  const zoo::TokenAndPositionEmbedding embedding({.maxlen = 3, .vocab_size = 5, .embed_dim = 2});
  Tensor long_ids({1, 4});
  EXPECT_NE(
      message_of<ValueError>([&] { embedding.call(long_ids); }).find("sequence longer than maxlen"),
      std::string::npos);
}

// keras.io's text classifier, small, on whether a sequence is mostly small ids.
TEST(CustomLayers, AModelOfThemTrains) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  constexpr int64_t kSamples = 64, kSteps = 6, kVocab = 12;
  Tensor ids({kSamples, kSteps}), labels({kSamples});
  for (int64_t n = 0; n < kSamples; ++n) {
    int small = 0;
    for (int64_t t = 0; t < kSteps; ++t) {
      const int64_t id = 1 + (n * 5 + t * 7 + n * t) % (kVocab - 1);
      ids(n, t) = static_cast<float>(id);
      small += id < kVocab / 2 ? 1 : 0;
    }
    labels(n) = 2 * small > kSteps ? 1.0f : 0.0f;
  }
  const KerasTensor tokens = Input({.shape = {kSteps}, .name = "tokens"});
  KerasTensor x = LayerRef<zoo::TokenAndPositionEmbedding>(
      std::make_shared<zoo::TokenAndPositionEmbedding>(zoo::TokenAndPositionEmbedding::Args{
          .maxlen = kSteps, .vocab_size = kVocab, .embed_dim = 8}))(tokens);
  x = LayerRef<zoo::TransformerBlock>(std::make_shared<zoo::TransformerBlock>(
      zoo::TransformerBlock::Args{.embed_dim = 8, .num_heads = 2, .ff_dim = 8}))(x);
  x = make_layer<GlobalAveragePooling1D>()(x);
  x = make_layer<Dense>({.units = 2, .activation = ActivationFunction("softmax")})(x);
  Model model(tokens, x, "text_transformer");
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.01}),
                 .loss = std::make_shared<SparseCategoricalCrossentropy>()});
  std::ostringstream quiet;
  const History history =
      model.fit({ids}, {labels}, {.batch_size = 16, .epochs = 30, .seed = 3, .progress = &quiet});
  const std::vector<double>& losses = history.history.at("loss");
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << losses.front() << " -> " << losses.back();
}

// The example program: trains the keras.io classifier, saves it, loads it back.
TEST(CustomLayers, ExampleTrainsSavesAndLoadsBack) {
  const auto dir = std::filesystem::temp_directory_path() / "kattn_custom_layer_example";
  std::filesystem::remove_all(dir);
  const std::string command = std::string(KATTN_BINARY_DIR) + "/bin/custom_layer " + dir.string() +
                              " 4 1000 > " + (dir.string() + ".log") + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << "see " << dir.string() << ".log";
  EXPECT_TRUE(std::filesystem::exists(dir / "text_transformer.keras"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir.string() + ".log");
}

}  // namespace
}  // namespace kattn
