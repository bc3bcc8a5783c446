// keras.Sequential: built in C++ as Keras's documentation writes it, its config.json, weights
// file and summary as Keras writes them (the golden zoo's seq_embedding_bilstm_gmp, saved by
// Keras 3.16), training, and the models it refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "error_test_util.hpp"
#include "kattn/core/random.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/layers/batch_normalization.hpp"
#include "kattn/layers/bidirectional.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/layers/pooling_windows.hpp"
#include "kattn/layers/relu.hpp"
#include "kattn/models/sequential.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

const std::filesystem::path kCase = testing::data_dir() / "golden-zoo/seq_embedding_bilstm_gmp";

KerasArchiveReader keras_file() { return KerasArchiveReader::open(kCase / "model.keras"); }
WeightStore keras_weights() { return keras_file().read_weights(size_t{1} << 20, "a test"); }

// The case's model, written in C++ as its case.json's notes write it in Python.
Model bilstm_classifier() {
  return Sequential(
      {.shape = {-1}, .dtype = DType::kInt32, .name = "tokens"},
      {make_layer<Embedding>({.input_dim = 30, .output_dim = 6, .mask_zero = true}),
       make_layer<Bidirectional>(
           {.layer = std::make_shared<LSTM>(
                LSTM::Args{.units = 4, .rnn = {.return_sequences = true}, .name = "lstm"}),
            .name = "bilstm"}),
       make_layer<GlobalMaxPooling1D>({.name = "max_pool"}),
       make_layer<Dense>(
           {.units = 1, .activation = ActivationFunction("sigmoid"), .name = "score"})},
      "sequential_bilstm");
}

TEST(Sequential, BuiltInCppSavesWhatKerasSaves) {
  const Model model = bilstm_classifier();
  EXPECT_TRUE(model.is_sequential());
  EXPECT_EQ(model.to_config(), testing::without_shared_ids(keras_file().config()));
  // model.weights.h5: the layers' groups, and none for the InputLayer.
  std::vector<std::string> paths;
  const WeightStore store = model.weight_store();
  for (const auto& [path, value] : store.datasets()) paths.push_back(path);
  std::vector<std::string> keras_paths;
  const WeightStore keras_store = keras_weights();
  for (const auto& [path, value] : keras_store.datasets()) keras_paths.push_back(path);
  EXPECT_EQ(paths, keras_paths);
}

TEST(Sequential, BuiltInCppWithKerassWeightsComputesKerassOutput) {
  Model model = bilstm_classifier();
  model.load_weights(keras_weights());
  const std::vector<AnyTensor> outputs =
      model.predict(testing::case_inputs(kCase, testing::read_case_json(kCase)));
  const Tensor expected = read_npy_tensor(kCase / "output_0_score.npy");
  const Tensor actual = std::get<Tensor>(outputs.front());
  ASSERT_EQ(actual.shape(), expected.shape());
  for (int64_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual.data()[i], expected.data()[i], 1e-5);
}

// The zoo's seq_conv1d_pool: convolution and pooling stages, written in C++.
TEST(Sequential, ConvolutionStagesBuiltInCppSaveWhatKerasSaves) {
  const std::filesystem::path dir = testing::data_dir() / "golden-zoo/seq_conv1d_pool";
  const Model model = Sequential(
      {.shape = {-1, 5}, .name = "signal"},
      {make_layer<Conv1D>({.filters = 5,
                           .kernel_size = 3,
                           .padding = "same",
                           .activation = ActivationFunction("relu"),
                           .name = "conv_1"}),
       make_layer<MaxPooling1D>({.pool_size = 2, .name = "pool_1"}),
       make_layer<Conv1D>({.filters = 6,
                           .kernel_size = 2,
                           .activation = ActivationFunction("relu"),
                           .name = "conv_2"}),
       make_layer<GlobalAveragePooling1D>({.name = "gap"}),
       make_layer<Dense>(
           {.units = 3, .activation = ActivationFunction("softmax"), .name = "classifier"})},
      "sequential_conv1d");
  const KerasArchiveReader file = KerasArchiveReader::open(dir / "model.keras");
  EXPECT_EQ(model.to_config(), testing::without_shared_ids(file.config()));
  const WeightStore ours = model.weight_store();
  const WeightStore keras = file.read_weights(size_t{1} << 20, "a test");
  EXPECT_EQ(ours.groups(), keras.groups());
  ASSERT_EQ(ours.datasets().size(), keras.datasets().size());
  for (const auto& [path, value] : keras.datasets()) {
    ASSERT_NE(ours.find(path), nullptr) << path;
    EXPECT_EQ(ours.find(path)->shape(), value.shape()) << path;
  }
}

TEST(Sequential, SummaryListsTheLayersWithoutInputsOpNodesOrConnections) {
  const std::string summary = bilstm_classifier().summary();
  EXPECT_NE(summary.find("Model: \"sequential_bilstm\""), std::string::npos);
  EXPECT_NE(summary.find("bilstm (Bidirectional)"), std::string::npos);
  EXPECT_EQ(summary.find("tokens (InputLayer)"), std::string::npos);
  EXPECT_EQ(summary.find("NotEqual"), std::string::npos);
  EXPECT_EQ(summary.find("Connected to"), std::string::npos);
}

TEST(Sequential, SavedAndLoadedStaysSequential) {
  const Model model = bilstm_classifier();
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "kattn_sequential_test.keras";
  save_model(model, path);
  const Model loaded = load_model(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(loaded.is_sequential());
  EXPECT_EQ(loaded.to_config(), model.to_config());
}

TEST(Sequential, Trains) {
  // Whether the first token is above the middle of the vocabulary, behind padding.
  constexpr int64_t kSamples = 48, kSteps = 5;
  Int32Tensor tokens({kSamples, kSteps});
  Tensor labels({kSamples, 1});
  for (int64_t n = 0; n < kSamples; ++n) {
    for (int64_t t = 0; t < kSteps; ++t)
      tokens(n, t) = t < 1 + n % 3 ? static_cast<int32_t>(1 + (n * 7 + t * 3) % 29) : 0;
    labels(n, 0) = tokens(n, 0) > 15 ? 1.0f : 0.0f;
  }
  set_random_seed(1);  // initial weights that learn, the same on every run
  Model model = bilstm_classifier();
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.02}),
                 .loss = std::make_shared<BinaryCrossentropy>()});
  std::ostringstream quiet;
  const History history = model.fit(
      {tokens}, {labels}, {.batch_size = 16, .epochs = 30, .seed = 3, .progress = &quiet});
  const std::vector<double>& losses = history.history.at("loss");
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << losses.front() << " -> " << losses.back();
}

// The zoo's seq_mlp_batchnorm shape: Dense, BatchNormalization, ReLU. Training moves the moving
// statistics toward the batches' (mean near 5, variance near 4 after the first Dense's identity
// kernel), and the loss falls.
TEST(Sequential, TrainsThroughBatchNormalizationAndMovesItsStatistics) {
  constexpr int64_t kSamples = 64;
  Tensor x({kSamples, 2});
  Tensor y({kSamples, 1});
  for (int64_t n = 0; n < kSamples; ++n) {
    x(n, 0) = 5.0f + 2.0f * std::sin(static_cast<float>(n));
    x(n, 1) = 5.0f + 2.0f * std::cos(static_cast<float>(3 * n));
    y(n, 0) = x(n, 0) > x(n, 1) ? 1.0f : 0.0f;
  }
  auto bn = make_layer<BatchNormalization>({.momentum = 0.9, .name = "bn"});
  // Seeded kernels: the same run every time.
  const auto seeded = [](int64_t seed) {
    return WeightArgs{.initializer = Initializer::glorot_uniform(seed)};
  };
  Model model =
      Sequential({.shape = {2}, .name = "features"},
                 {bn, make_layer<Dense>({.units = 8, .kernel = seeded(1), .name = "hidden"}),
                  make_layer<ReLU>({.name = "relu"}),
                  make_layer<Dense>({.units = 1,
                                     .activation = ActivationFunction("sigmoid"),
                                     .kernel = seeded(2),
                                     .name = "out"})},
                 "mlp_batchnorm");
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.05}),
                 .loss = std::make_shared<BinaryCrossentropy>()});
  std::ostringstream quiet;
  const History history =
      model.fit({x}, {y}, {.batch_size = 16, .epochs = 20, .seed = 4, .progress = &quiet});
  const std::vector<double>& losses = history.history.at("loss");
  EXPECT_LT(losses.back(), 0.6 * losses.front()) << losses.front() << " -> " << losses.back();
  const Tensor& mean = bn.layer()->weight("moving_mean");
  const Tensor& variance = bn.layer()->weight("moving_variance");
  for (int64_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(mean.data()[c], 5.0f, 0.6f) << c;
    EXPECT_NEAR(variance.data()[c], 2.0f, 1.0f) << c;
  }
}

TEST(Sequential, RefusesWhatKerasRefuses) {
  EXPECT_EQ(message_of<ValueError>([] { Sequential({.shape = {3}}, {}, "empty"); }),
            "Sequential 'empty': a Sequential model needs layers. Expected at least one layer "
            "after the input. Received: none.");
  // A layer of two outputs.
  const std::string two_outputs = message_of<ValueError>([] {
    Sequential({.shape = {-1, 3}}, {make_layer<LSTM>({.units = 2, .rnn = {.return_state = true}})});
  });
  EXPECT_NE(two_outputs.find("several outputs"), std::string::npos) << two_outputs;

  Config config = testing::without_shared_ids(keras_file().config());
  Config layers = config["config"]["layers"];
  // No InputLayer and no build_input_shape: nothing says what the input is.
  Config headless = config;
  headless["config"]["layers"].erase(0);
  headless["config"].erase("build_input_shape");
  const std::string no_input = message_of<ValueError>([&] { Model::from_config(headless); });
  EXPECT_NE(no_input.find("Sequential 'sequential_bilstm': invalid config at config.layers[0]"),
            std::string::npos)
      << no_input;
  EXPECT_NE(no_input.find("Received: class Embedding"), std::string::npos) << no_input;
  // Without the InputLayer but with build_input_shape, Keras's build() makes the input.
  Config built = config;
  built["config"]["layers"].erase(0);
  built["config"]["layers"][0]["config"]["name"] = "embedding";
  const std::string float_input = message_of<ValueError>([&] {
    Model::from_config(built).predict({Tensor({1, 2})});
  });
  EXPECT_EQ(float_input, "no exception");
  // A second InputLayer.
  Config twice = config;
  twice["config"]["layers"].push_back(layers[0]);
  const std::string second_input = message_of<ValueError>([&] { Model::from_config(twice); });
  EXPECT_NE(second_input.find("another InputLayer"), std::string::npos) << second_input;
  // A key Keras's Sequential config does not have.
  Config unknown = config;
  unknown["config"]["layerz"] = Config::array();
  const std::string unknown_key = message_of<ValueError>([&] { Model::from_config(unknown); });
  EXPECT_NE(unknown_key.find("layerz"), std::string::npos) << unknown_key;
}

}  // namespace
}  // namespace kattn
