// Models of the companion layers built in C++ save what Keras saved for the same models: the
// golden zoo's dot_axes_variants (Dot in every form of `axes`, Permute) and identity_layers_chain
// (the noise layers, ActivityRegularization, Identity) written with the functional API, their
// config.json and weight layout compared with the files Keras wrote.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "kattn/io/keras_archive.hpp"
#include "kattn/layers/activity_regularization.hpp"
#include "kattn/layers/alpha_dropout.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dot.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/gaussian_dropout.hpp"
#include "kattn/layers/gaussian_noise.hpp"
#include "kattn/layers/identity.hpp"
#include "kattn/layers/permute.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/layers/spatial_dropout.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

// The C++ model's config.json and weight layout against the golden case's model.keras.
void expect_saves_what_keras_saved(const Model& model, const std::string& case_name) {
  const KerasArchiveReader file =
      KerasArchiveReader::open(testing::data_dir() / "golden-zoo" / case_name / "model.keras");
  // Op nodes (the masks' NotEqual) take process-wide auto-names: compared by position.
  const Config keras_config = testing::without_shared_ids(file.config());
  EXPECT_EQ(testing::with_names_of(model.to_config(), keras_config), keras_config);
  const WeightStore ours = model.weight_store();
  const WeightStore keras = file.read_weights(size_t{1} << 20, "a test");
  EXPECT_EQ(ours.groups(), keras.groups());
  ASSERT_EQ(ours.datasets().size(), keras.datasets().size());
  for (const auto& [path, value] : keras.datasets()) {
    ASSERT_NE(ours.find(path), nullptr) << path;
    EXPECT_EQ(ours.find(path)->shape(), value.shape()) << path;
  }
}

TEST(CompanionModelsInCpp, DotInEveryFormSavesWhatKerasSaves) {
  const KerasTensor b = Input({.shape = {9, 5}, .name = "b"});
  const KerasTensor a = Input({.shape = {4, 5}, .name = "a"});
  const KerasTensor c = Input({.shape = {4, 3}, .name = "c"});
  const KerasTensor v = Input({.shape = {5}, .name = "v"});
  const KerasTensor permuted = make_layer<Permute>({.dims = {2, 1}, .name = "permute"})(b);
  const KerasTensor dot_2 = make_layer<Dot>({.axes = 2, .name = "dot_2"})({a, b});
  const KerasTensor dot_1_1 = make_layer<Dot>({.axes = {1, 1}, .name = "dot_1_1"})({a, c});
  const KerasTensor vectors = make_layer<Dot>({.axes = -1, .name = "dot_vectors"})({v, v});
  const KerasTensor dot_2_1 = make_layer<Dot>({.axes = {2, 1}, .name = "dot_2_1"})({a, permuted});
  const KerasTensor cosine =
      make_layer<Dot>({.axes = {1, 2}, .normalize = true, .name = "dot_vec_seq_cos"})({v, a});
  const Model model({a, b, c, v}, {dot_2, dot_1_1, vectors, dot_2_1, cosine}, "dot_axes");
  expect_saves_what_keras_saved(model, "dot_axes_variants");
}

TEST(CompanionModelsInCpp, InferenceIdentitiesSaveWhatKerasSaves) {
  const KerasTensor tokens = Input({.shape = {-1}, .dtype = DType::kInt32, .name = "tokens"});
  KerasTensor x =
      make_layer<Embedding>({.input_dim = 30, .output_dim = 6, .mask_zero = true})(tokens);
  x = make_layer<SpatialDropout1D>({.rate = 0.3, .name = "spatial_dropout"})(x);
  x = make_layer<GaussianNoise>({.stddev = 0.5})(x);
  x = make_layer<GaussianDropout>({.rate = 0.4})(x);
  x = make_layer<AlphaDropout>({.rate = 0.2})(x);
  x = make_layer<ActivityRegularization>({.l1 = 0.01, .l2 = 0.001, .name = "activity_reg"})(x);
  x = make_layer<Dropout>({.rate = 0.5})(x);
  x = make_layer<Identity>()(x);
  const KerasTensor dense = make_layer<Dense>({.units = 4})(x);
  x = make_layer<GlobalAveragePooling1D>({.name = "pool"})(dense);
  const KerasTensor logits = make_layer<Dense>({.units = 3, .name = "logits"})(x);
  const Model model(tokens, {dense, logits}, "inference_identities");
  expect_saves_what_keras_saved(model, "identity_layers_chain");
}

}  // namespace
}  // namespace kattn
