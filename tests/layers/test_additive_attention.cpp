// keras.layers.AdditiveAttention: additive_attention_test.py's numbers and shapes, weights,
// config.
#include <gtest/gtest.h>

#include <cmath>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn {
namespace {

using testing::expect_near_all;
using testing::random_tensor;

TEST(AdditiveAttention, CorrectnessMatchesKeras) {
  // test_attention_correctness: with use_scale=False the scores are sum tanh(q + k), the
  // same as Attention(score_mode="concat") with its initial weight 1.
  const Tensor query({1, 2, 2}, {1, 0, 0, 1});
  const Tensor key({1, 2, 2}, {0, 1, 1, 0});
  const Tensor value({1, 2, 2}, {1, 2, 3, 4});
  AdditiveAttention layer({.use_scale = false});
  DenseAttentionCallArgs args;
  args.return_attention_scores = true;
  const AttentionOutput out = layer.call(query, value, key, args);
  expect_near_all(out.output, {1.7274833f, 2.7274833f, 2.2725165f, 3.2725165f}, 2e-6);
  expect_near_all(*out.attention_scores, {0.63625830f, 0.36374167f, 0.36374167f, 0.63625830f},
                  1e-7);
  expect_near_all(out.output, {1.727f, 2.727f, 2.272f, 3.272f}, 1e-3);
  expect_near_all(*out.attention_scores, {0.636f, 0.363f, 0.363f, 0.636f}, 1e-3);

  Attention concat({.score_mode = "concat"});
  const AttentionOutput same = concat.call(query, value, key, args);
  EXPECT_EQ(out.output.to_vector(), same.output.to_vector());
  EXPECT_EQ(out.attention_scores->to_vector(), same.attention_scores->to_vector());
}

TEST(AdditiveAttention, MasksZeroQueryRowsAndHideValues) {
  // test_attention_with_mask.
  AdditiveAttention layer({.use_scale = false});
  DenseAttentionCallArgs args;
  args.query_mask = Mask({1, 2}, {true, false});
  args.value_mask = Mask({1, 2}, {true, false});
  args.return_attention_scores = true;
  const AttentionOutput out =
      layer.call(Tensor({1, 2, 2}, {1, 0, 0, 1}), Tensor::full({1, 2, 2}, 1.0f), args);
  EXPECT_EQ(out.output.to_vector(), (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(out.attention_scores->to_vector(), (std::vector<float>{1, 0, 1, 0}));
}

TEST(AdditiveAttention, BasicsScaleWeight) {
  // test_attention_basics: one trainable (dim,) weight with use_scale, none without.
  AdditiveAttention scaled({.use_scale = true, .dropout = 0.5});
  EXPECT_EQ(scaled.call(Tensor({2, 3, 4}), Tensor({2, 4, 4})).output.shape(), (Shape{2, 3, 4}));
  ASSERT_EQ(scaled.weights().size(), 1u);
  const Variable& scale = scaled.weights()[0];
  EXPECT_EQ(scale.name, "scale");
  EXPECT_TRUE(scale.trainable);
  EXPECT_EQ(scale.value.shape(), (Shape{4}));
  EXPECT_EQ(scaled.weight_path(scale), "additive_attention/scale");
  // glorot_uniform of shape (4,): fan_in = fan_out = 4, limit sqrt(6 / 8).
  const float limit = std::sqrt(6.0f / 8.0f);
  bool any_nonzero = false;
  for (float v : scale.value.to_vector()) {
    EXPECT_LE(std::fabs(v), limit);
    any_nonzero = any_nonzero || v != 0.0f;
  }
  EXPECT_TRUE(any_nonzero);

  AdditiveAttention plain({.use_scale = false, .dropout = 0.5});
  EXPECT_EQ(plain.call(Tensor({2, 3, 4}), Tensor({2, 4, 4})).output.shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(plain.weights().empty());
}

TEST(AdditiveAttention, ScaleWeighsEachFeature) {
  // scores = sum_d scale_d * tanh(q_d + k_d): with scale (1, 0) only feature 0 counts.
  AdditiveAttention layer({.name = "bahdanau"});
  layer.build({{1, 1, 2}, {1, 2, 2}});
  layer.set_weight("bahdanau/scale", Tensor({2}, {1.0f, 0.0f}));
  const Tensor query({1, 1, 2}, {0.5f, 3.0f});
  const Tensor value({1, 2, 2}, {0.0f, -9.0f, 1.0f, 9.0f});
  DenseAttentionCallArgs args;
  args.return_attention_scores = true;
  const AttentionOutput out = layer.call(query, value, args);
  const double s0 = std::tanh(0.5);
  const double s1 = std::tanh(1.5);
  const double p0 = std::exp(s0 - s1) / (std::exp(s0 - s1) + 1.0);
  expect_near_all(*out.attention_scores, {static_cast<float>(p0), static_cast<float>(1.0 - p0)},
                  1e-6);
}

TEST(AdditiveAttention, NdInputsTreatLeadingAxesAsBatch) {
  AdditiveAttention layer;
  const Tensor query = random_tensor({2, 3, 4, 5}, 31);
  const Tensor value = random_tensor({2, 3, 6, 5}, 32);
  DenseAttentionCallArgs args;
  args.return_attention_scores = true;
  args.use_causal_mask = true;
  const AttentionOutput out = layer.call(query, value, args);
  EXPECT_EQ(out.output.shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(out.attention_scores->shape(), (Shape{2, 3, 4, 6}));
  const AttentionOutput flat = layer.call(query.reshape({6, 4, 5}), value.reshape({6, 6, 5}), args);
  EXPECT_EQ(out.output.to_vector(), flat.output.to_vector());
  EXPECT_EQ(out.attention_scores->to_vector(), flat.attention_scores->to_vector());
}

TEST(AdditiveAttention, FullyMaskedRowIsUniformForSmallScores) {
  AdditiveAttention layer;
  DenseAttentionCallArgs args;
  args.value_mask =
      Mask({2, 5}, {true, true, false, true, true, false, false, false, false, false});
  args.return_attention_scores = true;
  const AttentionOutput out =
      layer.call(random_tensor({2, 3, 4}, 33), random_tensor({2, 5, 4}, 34), args);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*out.attention_scores)(0, i, 2), 0.0f);
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ((*out.attention_scores)(1, i, j), 0.2f);
  }
}

TEST(AdditiveAttention, ConfigMatchesKerasKeysAndRoundTrips) {
  AdditiveAttention layer({.use_scale = false, .dropout = 0.5, .seed = 7, .name = "bahdanau"});
  const Config config = layer.get_config();
  const Config expected = {{"name", "bahdanau"},
                           {"trainable", true},
                           {"dtype",
                            {{"module", "keras"},
                             {"class_name", "DTypePolicy"},
                             {"config", {{"name", "float32"}}},
                             {"registered_name", nullptr}}},
                           {"use_scale", false},
                           {"dropout", 0.5},
                           {"seed", 7}};
  EXPECT_EQ(config, expected);
  EXPECT_EQ(AdditiveAttention::from_config(config)->get_config(), config);

  const Config defaults = AdditiveAttention().get_config();
  EXPECT_EQ(defaults["name"], "additive_attention");
  EXPECT_EQ(defaults["use_scale"], true);
  EXPECT_FALSE(defaults.contains("score_mode"));
  // A config without a name takes the next auto name, as in Keras.
  Config unnamed = AdditiveAttention::from_config(Config::object())->get_config();
  EXPECT_EQ(unnamed["name"], "additive_attention_1");
  unnamed["name"] = "additive_attention";
  EXPECT_EQ(unnamed, defaults);
}

}  // namespace
}  // namespace kattn
