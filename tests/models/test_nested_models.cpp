// Models used as layers of other models (a Functional encoder and a Sequential head), against
// the file Keras 3.15.1 saved for them (tests/data/nested-models, written by
// tools/keras_reference/nested_models.py): outputs, the masks the nested model's outputs carry,
// config.json and the weights file as Keras writes them, the same model built in C++, training.
#include <gtest/gtest.h>

#include <sstream>

#include "kattn/core/random.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/nested_model.hpp"
#include "kattn/models/sequential.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

const std::filesystem::path kCase = testing::data_dir() / "nested-models/encoder_head";

void expect_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  for (int64_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual.data()[i], expected.data()[i], 1e-5) << i;
  }
}

std::vector<AnyTensor> tokens() { return {std::get<Int32Tensor>(read_npy(kCase / "tokens.npy"))}; }

// The case's model, built in C++ as the generator builds it in Python.
Model encoder_head() {
  const KerasTensor inner = Input({.shape = {-1, 6}, .name = "inner_x"});
  const KerasTensor encoded =
      make_layer<LayerNormalization>({.name = "inner_norm"})(make_layer<Dense>(
          {.units = 5, .activation = ActivationFunction("tanh"), .name = "inner_dense"})(inner));
  auto encoder =
      LayerRef<NestedModel>(std::make_shared<NestedModel>(Model(inner, encoded, "encoder")));
  auto head = LayerRef<NestedModel>(std::make_shared<NestedModel>(Sequential(
      {.shape = {5}, .name = "head_in"},
      {make_layer<Dense>(
           {.units = 4, .activation = ActivationFunction("relu"), .name = "head_hidden"}),
       make_layer<Dense>({.units = 2, .name = "head_out"})},
      "head")));
  const KerasTensor ids = Input({.shape = {-1}, .dtype = DType::kInt32, .name = "tokens"});
  const KerasTensor x =
      make_layer<Embedding>({.input_dim = 20, .output_dim = 6, .mask_zero = true})(ids);
  const KerasTensor pooled = make_layer<GlobalAveragePooling1D>({.name = "pool"})(encoder(x));
  return Model(ids, head(pooled), "outer");
}

TEST(NestedModels, RunAsKerasRanThemWithTheMasksTheirOutputsCarry) {
  const Model model = load_model(kCase / "model.keras");
  const Model::Trace trace = model.trace(tokens());
  for (size_t n = 0; n < trace.nodes.size(); ++n) {
    if (trace.nodes[n]->operation->name() == "pool") {
      // GlobalAveragePooling1D averaged over the steps the encoder's output mask keeps.
      expect_close(std::get<Tensor>(trace.outputs[n][0]->tensor),
                   read_npy_tensor(kCase / "pooled.npy"));
    }
  }
  expect_close(std::get<Tensor>(model.predict(tokens()).front()),
               read_npy_tensor(kCase / "output.npy"));
}

TEST(NestedModels, SaveWhatKerasSaved) {
  const KerasArchiveReader file = KerasArchiveReader::open(kCase / "model.keras");
  const Model model = load_model(kCase / "model.keras");
  EXPECT_EQ(model.to_config(), testing::without_shared_ids(file.config()));
  const WeightStore keras = file.read_weights(size_t{1} << 20, "a test");
  const WeightStore ours = model.weight_store();
  EXPECT_EQ(ours.groups(), keras.groups());
  std::vector<std::string> our_paths, keras_paths;
  for (const auto& [path, value] : ours.datasets()) our_paths.push_back(path);
  for (const auto& [path, value] : keras.datasets()) keras_paths.push_back(path);
  EXPECT_EQ(our_paths, keras_paths);
}

TEST(NestedModels, BuiltInCppMatchKerassConfigAndOutputs) {
  Model model = encoder_head();
  const KerasArchiveReader file = KerasArchiveReader::open(kCase / "model.keras");
  Config keras = testing::without_shared_ids(file.config());
  Config ours = model.to_config();
  // Two differences that are not the nested models': the mask's not_equal op is named by a
  // counter of the whole process, and a LayerNormalization made under Keras 3.16's rules
  // saves its axis resolved ([2]) where 3.15.1 saved [-1] (docs/semantics.md).
  const std::string mask_op = ours["config"]["layers"][2]["name"].get<std::string>();
  EXPECT_EQ(mask_op.rfind("not_equal", 0), 0u) << mask_op;
  Config& keras_layers = keras["config"]["layers"];
  keras_layers[2]["name"] = mask_op;
  keras_layers[2]["config"]["name"] = mask_op;
  keras_layers[3]["inbound_nodes"][0]["kwargs"]["mask"]["config"]["keras_history"][0] = mask_op;
  EXPECT_EQ(keras_layers[3]["config"]["layers"][2]["config"]["axis"], Config::array({-1}));
  keras_layers[3]["config"]["layers"][2]["config"]["axis"] = Config::array({2});
  EXPECT_EQ(ours, keras);
  model.load_weights(file.read_weights(size_t{1} << 20, "a test"));
  expect_close(std::get<Tensor>(model.predict(tokens()).front()),
               read_npy_tensor(kCase / "output.npy"));
}

TEST(NestedModels, Train) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  Model model = encoder_head();
  Int32Tensor ids({32, 5});
  Tensor labels({32});
  for (int64_t n = 0; n < 32; ++n) {
    for (int64_t t = 0; t < 5; ++t)
      ids(n, t) = t <= n % 4 ? static_cast<int32_t>(1 + (n + 3 * t) % 19) : 0;
    labels(n) = ids(n, 0) > 10 ? 1.0f : 0.0f;
  }
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.02}),
                 .loss = std::make_shared<SparseCategoricalCrossentropy>(
                     SparseCategoricalCrossentropy::Args{.from_logits = true})});
  std::ostringstream quiet;
  const History history =
      model.fit({ids}, {labels}, {.batch_size = 8, .epochs = 40, .seed = 3, .progress = &quiet});
  const std::vector<double>& losses = history.history.at("loss");
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << losses.front() << " -> " << losses.back();
}

}  // namespace
}  // namespace kattn
