// LayerNormalization: Keras's config (axis as given, then normalised by build), weights,
// hand-computed cases, and Keras's own numbers from the encoder golden models.
#include <gtest/gtest.h>

#include <cmath>

#include "kattn/layers/layer_normalization.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::golden_intermediate;
using testing::golden_model_weights;
using testing::message_of;

// The block1_attn_norm entry of enc_mha/model.keras config.json (shared_object_id dropped).
const Config kAttnNorm = Config::parse(R"({
  "name": "block1_attn_norm", "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null},
  "axis": [2], "epsilon": 1e-06, "center": true, "scale": true, "rms_scaling": false,
  "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                       "registered_name": null},
  "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {},
                        "registered_name": null},
  "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
  "gamma_constraint": null})");

Tensor golden(const std::string& case_name, const std::string& file) {
  return std::get<Tensor>(golden_intermediate(case_name, file));
}

TEST(LayerNormalization, GoldenConfigRoundTrips) {
  const auto layer = LayerNormalization::from_config(kAttnNorm);
  EXPECT_EQ(layer->get_config(), kAttnNorm);
  layer->build({-1, -1, 8});
  EXPECT_EQ(layer->get_config(), kAttnNorm);
}

TEST(LayerNormalization, AxisIsWrittenAsGivenUntilBuildNormalisesIt) {
  LayerNormalization layer;
  EXPECT_EQ(layer.get_config()["axis"], -1);  // Keras keeps the int until build
  EXPECT_EQ(layer.get_config()["epsilon"], 1e-3);
  EXPECT_EQ(layer.name(), "layer_normalization");
  layer.build({-1, -1, 8});
  EXPECT_EQ(layer.get_config()["axis"], Config::parse("[2]"));
  LayerNormalization listed({.axis = {-2, -1}});
  EXPECT_EQ(listed.get_config()["axis"], Config::parse("[-2, -1]"));
  listed.build({-1, 3, 4});
  EXPECT_EQ(listed.get_config()["axis"], Config::parse("[1, 2]"));
  Config config = kAttnNorm;
  config["axis"] = -1;
  EXPECT_EQ(LayerNormalization::from_config(config)->get_config()["axis"], -1);
}

TEST(LayerNormalization, WeightsInKerasOrder) {
  LayerNormalization both({.axis = {1, 2}, .name = "ln"});
  both.build({-1, 3, 4});
  ASSERT_EQ(both.weights().size(), 2u);
  EXPECT_EQ(both.weights()[0].name, "gamma");
  EXPECT_EQ(both.weights()[0].value.shape(), (Shape{3, 4}));
  EXPECT_EQ(both.weights()[1].name, "beta");
  EXPECT_EQ(both.weight_path(both.weights()[1]), "ln/beta");
  EXPECT_EQ(both.weight("gamma").to_vector(), std::vector<float>(12, 1.0f));

  LayerNormalization beta_only({.scale = false});
  beta_only.build({2, 5});
  ASSERT_EQ(beta_only.weights().size(), 1u);
  EXPECT_EQ(beta_only.weights()[0].name, "beta");
  // rms_scaling creates gamma even without scale, and never beta.
  LayerNormalization rms({.scale = false, .rms_scaling = true});
  rms.build({2, 5});
  ASSERT_EQ(rms.weights().size(), 1u);
  EXPECT_EQ(rms.weights()[0].name, "gamma");
}

TEST(LayerNormalization, HandComputed) {
  // x = (1, 2, 3, 6): mean 3, E[x^2] = 12.5, var 3.5.
  const Tensor x({1, 4}, {1, 2, 3, 6});
  LayerNormalization plain({.epsilon = 0.5});
  const float inv = 1.0f / std::sqrt(4.0f);
  EXPECT_EQ(plain.call(x).to_vector(), (std::vector<float>{-2 * inv, -1 * inv, 0, 3 * inv}));
  LayerNormalization scaled({.epsilon = 0.5});
  scaled.build({1, 4});
  scaled.set_weight("gamma", Tensor({4}, {1, 2, 3, 4}));
  scaled.set_weight("beta", Tensor({4}, {10, 20, 30, 40}));
  EXPECT_EQ(scaled.call(x).to_vector(), (std::vector<float>{9, 19, 30, 46}));
  // rms_scaling: x / sqrt(var + epsilon) * gamma, no centering.
  LayerNormalization rms({.epsilon = 0.5, .rms_scaling = true});
  EXPECT_EQ(rms.call(x).to_vector(), (std::vector<float>{0.5f, 1, 1.5f, 3}));
}

TEST(LayerNormalization, AxesOtherThanTheLast) {
  // (2, 2) over axis 0: the columns (1, 3) and (2, 6) are normalised.
  const Tensor x({2, 2}, {1, 2, 3, 6});
  LayerNormalization columns({.axis = 0, .epsilon = 0.0, .center = false, .scale = false});
  EXPECT_EQ(columns.call(x).to_vector(), (std::vector<float>{-1, -1, 1, 1}));
  // Both axes at once equals the last axis of the flattened input.
  LayerNormalization joint({.axis = {0, 1}, .epsilon = 0.5});
  LayerNormalization flat({.epsilon = 0.5});
  EXPECT_EQ(joint.call(x).to_vector(), flat.call(x.reshape({1, 4})).to_vector());
}

TEST(LayerNormalization, KerasNumbersFromEncoders) {
  for (const char* case_name : {"enc_mha", "enc_gqa"}) {
    const WeightStore weights = golden_model_weights(case_name);
    const auto first = LayerNormalization::from_config(kAttnNorm);
    first->build({-1, -1, 8});
    first->set_weights(weights.variables("layers/layer_normalization/vars"));
    expect_close(first->call(golden(case_name, "block1_attn_residual.0.0")),
                 golden(case_name, "block1_attn_norm.0.0"));
    Config config = kAttnNorm;
    config["name"] = "block1_ffn_norm";
    const auto second = LayerNormalization::from_config(config);
    second->build({-1, -1, 8});
    second->set_weights(weights.variables("layers/layer_normalization_1/vars"));
    expect_close(second->call(golden(case_name, "block1_ffn_residual.0.0")),
                 golden(case_name, "block1_ffn_norm.0.0"));
  }
}

TEST(LayerNormalization, Errors) {
  LayerNormalization layer({.axis = 3, .name = "ln"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({-1, 5, 8});
            }),
            "LayerNormalization 'ln': Axis 3 is out of bounds for input shape (None, 5, 8). "
            "Expected axes in [-3, 3). Received: axis=3.");
  EXPECT_FALSE(layer.built());
  LayerNormalization twice({.axis = {1, -2}, .name = "ln"});
  EXPECT_EQ(message_of<ValueError>([&] {
              twice.build({-1, 5, 8});
            }),
            "LayerNormalization 'ln': Duplicate axis. Expected distinct axes. Received: "
            "axis=(1, -2).");
  LayerNormalization unknown({.axis = 1, .name = "ln"});
  EXPECT_EQ(message_of<ValueError>([&] {
              unknown.build({2, -1, 8});
            }),
            "LayerNormalization 'ln': the normalised axes of the inputs must be known. Expected "
            "known dimensions on axis=1. Received: shape=(2, None, 8).");
  LayerNormalization built({.name = "ln"});
  built.build({-1, 8});
  EXPECT_EQ(message_of<ValueError>([&] {
              built.call(Tensor({2, 6}));
            }),
            "LayerNormalization 'ln': Input 0 is incompatible with the layer. Expected dimensions "
            "(8,) on axis=(1,). Received: shape=(2, 6).");
  Config config = kAttnNorm;
  config["axis"] = "last";
  EXPECT_EQ(message_of<ValueError>([&] { LayerNormalization::from_config(config); }),
            "LayerNormalization 'block1_attn_norm': invalid config value for `axis`. Expected an "
            "int or a list of ints. Received: axis=\"last\".");
}

}  // namespace
}  // namespace kattn
