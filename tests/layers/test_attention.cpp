// keras.layers.Attention: the numbers and shapes Keras's attention_test.py pins, the
// documentation example, config round trips.
#include <gtest/gtest.h>

#include <thread>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn {
namespace {

using testing::expect_near_all;
using testing::random_tensor;

// The inputs attention_test.py shares: batch 1, Tq = Tv = 2, dim 2.
const Tensor kQuery({1, 2, 2}, {1, 0, 0, 1});
const Tensor kKey({1, 2, 2}, {0, 1, 1, 0});
const Tensor kValue({1, 2, 2}, {1, 2, 3, 4});

AttentionOutput call_with_scores(const Attention& layer, const std::vector<Tensor>& inputs,
                                 DenseAttentionCallArgs args = {}) {
  args.return_attention_scores = true;
  return layer.call(inputs, args);
}

TEST(Attention, DotCorrectnessMatchesKeras) {
  // test_attention_correctness (dot); the digits are Keras 3.16's float32 result.
  Attention layer({.score_mode = "dot"});
  const AttentionOutput out = call_with_scores(layer, {kQuery, kValue, kKey});
  expect_near_all(out.output, {2.4621172f, 3.4621172f, 1.5378828f, 2.5378828f}, 2e-6);
  ASSERT_TRUE(out.attention_scores.has_value());
  expect_near_all(*out.attention_scores, {0.26894140f, 0.73105860f, 0.73105860f, 0.26894140f},
                  1e-7);
  // And the 3-digit values the Keras test hard-codes, at its tolerance.
  expect_near_all(out.output, {2.462f, 3.462f, 1.538f, 2.538f}, 1e-3);
}

TEST(Attention, ConcatCorrectnessMatchesKeras) {
  // test_attention_correctness (concat): concat_score_weight starts at 1.
  Attention layer({.score_mode = "concat"});
  const AttentionOutput out = call_with_scores(layer, {kQuery, kValue, kKey});
  expect_near_all(out.output, {1.7274833f, 2.7274833f, 2.2725165f, 3.2725165f}, 2e-6);
  expect_near_all(*out.attention_scores, {0.63625830f, 0.36374167f, 0.36374167f, 0.63625830f},
                  1e-7);
  expect_near_all(out.output, {1.727f, 2.727f, 2.272f, 3.272f}, 1e-3);
}

TEST(Attention, MasksZeroQueryRowsAndHideValues) {
  // test_attention_with_mask: the query-masked row keeps its distribution; only its output
  // row is zeroed.
  Attention layer;
  DenseAttentionCallArgs args;
  args.query_mask = Mask({1, 2}, {true, false});
  args.value_mask = Mask({1, 2}, {true, false});
  const Tensor ones = Tensor::full({1, 2, 2}, 1.0f);
  const AttentionOutput out = call_with_scores(layer, {kQuery, ones}, args);
  EXPECT_EQ(out.output.to_vector(), (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(out.attention_scores->to_vector(), (std::vector<float>{1, 0, 1, 0}));
}

TEST(Attention, DocumentationExampleDistribution) {
  // query [1, 1, 1, 3] against keys [1, 1, 2, 4], [4, 1, 1, 3], [1, 1, 2, 1]: scores 16, 15, 7.
  const Tensor query({1, 1, 4}, {1, 1, 1, 3});
  const Tensor keys({1, 3, 4}, {1, 1, 2, 4, 4, 1, 1, 3, 1, 1, 2, 1});
  Attention layer;
  const AttentionOutput out = call_with_scores(layer, {query, keys});
  expect_near_all(*out.attention_scores, {0.731f, 0.269f, 9.02e-05f}, 5e-4);
  EXPECT_NEAR((*out.attention_scores)(0, 0, 2), 9.02e-05f, 5e-7);
  // output = the distribution's average of the value rows.
  const std::vector<float> p = out.attention_scores->to_vector();
  for (int64_t d = 0; d < 4; ++d) {
    const float expected = p[0] * keys(0, 0, d) + p[1] * keys(0, 1, d) + p[2] * keys(0, 2, d);
    EXPECT_NEAR(out.output(0, 0, d), expected, 1e-6);
  }
}

TEST(Attention, BasicsWeightsPerConfiguration) {
  // test_attention_basics: no weights for plain dot; scale and concat_score_weight, in that
  // order, both () and initialised to 1, for use_scale + concat.
  Attention dot({.score_mode = "dot", .dropout = 0.5});
  const AttentionOutput out = dot.call(Tensor({2, 3, 4}), Tensor({2, 4, 4}));
  EXPECT_EQ(out.output.shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(dot.weights().empty());
  EXPECT_FALSE(out.attention_scores.has_value());

  Attention concat({.use_scale = true, .score_mode = "concat", .dropout = 0.5});
  concat.build({{2, 3, 4}, {2, 4, 4}});
  ASSERT_EQ(concat.weights().size(), 2u);
  EXPECT_EQ(concat.weights()[0].name, "scale");
  EXPECT_EQ(concat.weights()[1].name, "concat_score_weight");
  for (const Variable& w : concat.weights()) {
    EXPECT_TRUE(w.trainable);
    EXPECT_EQ(w.value.shape(), Shape{});
    EXPECT_EQ(w.value.data()[0], 1.0f);
  }
  EXPECT_EQ(concat.weight_path(concat.weights()[0]), "attention_1/scale");  // the second unnamed
  EXPECT_EQ(concat.call(Tensor({2, 3, 4}), Tensor({2, 4, 4})).output.shape(), (Shape{2, 3, 4}));

  Attention scaled_dot({.use_scale = true});
  scaled_dot.build({{2, 3, 4}, {2, 4, 4}});
  ASSERT_EQ(scaled_dot.weights().size(), 1u);
  EXPECT_EQ(scaled_dot.weights()[0].name, "scale");
}

TEST(Attention, WeightsSetByNameAndByPath) {
  Attention layer({.use_scale = true, .score_mode = "concat", .name = "luong"});
  layer.build({{1, 2, 2}, {1, 2, 2}});
  layer.set_weight("luong/scale", Tensor::full({}, 0.7f));
  layer.set_weight("concat_score_weight", Tensor::full({}, 1.3f));
  EXPECT_EQ(layer.weight("scale").data()[0], 0.7f);
  EXPECT_EQ(layer.weight("luong/concat_score_weight").data()[0], 1.3f);
}

TEST(Attention, UseScaleMultipliesDotScores) {
  // test_attention_calculate_scores_with_scale: scores = query . key^T * scale. The layer
  // returns softmax(scores), so scaling by s equals an unscaled layer on query * s.
  const Tensor query = random_tensor({2, 3, 4}, 1);
  const Tensor key = random_tensor({2, 4, 4}, 2);
  Attention scaled({.use_scale = true});
  scaled.build({{2, 3, 4}, {2, 4, 4}});
  Attention plain;
  // Initial scale 1: the same as no scale.
  EXPECT_EQ(call_with_scores(scaled, {query, key}).attention_scores->to_vector(),
            call_with_scores(plain, {query, key}).attention_scores->to_vector());

  scaled.set_weight("scale", Tensor::full({}, 2.0f));
  Tensor doubled = query.clone();
  for (int64_t n = 0; n < doubled.size(); ++n) doubled.data()[n] *= 2.0f;
  const std::vector<float> a = call_with_scores(scaled, {query, key}).attention_scores->to_vector();
  const std::vector<float> b =
      call_with_scores(plain, {doubled, key}).attention_scores->to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t n = 0; n < a.size(); ++n) EXPECT_NEAR(a[n], b[n], 1e-6);
}

TEST(Attention, TwoDimensionalMasksShapes) {
  // test_attention_2d_mask shapes: query_mask (2, 3), value_mask (2, 4).
  Attention layer;
  DenseAttentionCallArgs args;
  args.query_mask = Mask::full({2, 3}, true);
  args.value_mask = Mask::full({2, 4}, true);
  const AttentionOutput out =
      call_with_scores(layer, {random_tensor({2, 3, 5}, 3), random_tensor({2, 4, 5}, 4)}, args);
  EXPECT_EQ(out.output.shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(out.attention_scores->shape(), (Shape{2, 3, 4}));
}

TEST(Attention, ReturnsOutputAndScores) {
  Attention layer;
  const AttentionOutput out =
      call_with_scores(layer, {random_tensor({2, 8, 16}, 5), random_tensor({2, 4, 16}, 6)});
  EXPECT_EQ(out.output.shape(), (Shape{2, 8, 16}));
  EXPECT_EQ(out.attention_scores->shape(), (Shape{2, 8, 4}));
}

TEST(Attention, ComputeOutputShapeIsQueryWithValueDim) {
  // test_attention_compute_output_shape.
  Attention layer;
  const std::vector<Shape> shapes = {{2, 3, 4}, {2, 3, 5}, {2, 3, 4}};
  EXPECT_EQ(layer.compute_output_shape(shapes), (Shape{2, 3, 5}));
  const AttentionOutput out = layer.call(random_tensor({2, 3, 4}, 7), random_tensor({2, 3, 5}, 8),
                                         random_tensor({2, 3, 4}, 9));
  EXPECT_EQ(out.output.shape(), layer.compute_output_shape(shapes));
  EXPECT_EQ(layer.compute_output_shape({{2, 8, 6, 4}, {2, 8, 5, 3}, {2, 8, 5, 4}}),
            (Shape{2, 8, 6, 3}));
}

TEST(Attention, NdInputsTreatLeadingAxesAsBatch) {
  // test_attention_nd_inputs shapes, then each (b, h) slice equals a rank-3 call on it.
  for (const std::string mode : {"dot", "concat"}) {
    Attention layer({.use_scale = true, .score_mode = mode});
    const Tensor query = random_tensor({2, 8, 6, 4}, 10);
    const Tensor value = random_tensor({2, 8, 5, 4}, 11);
    DenseAttentionCallArgs args;
    args.use_causal_mask = true;
    args.query_mask = testing::random_mask({2, 8, 6}, 12);
    args.value_mask = testing::random_mask({2, 8, 5}, 13);
    const AttentionOutput out = call_with_scores(layer, {query, value}, args);
    EXPECT_EQ(out.output.shape(), (Shape{2, 8, 6, 4}));
    EXPECT_EQ(out.attention_scores->shape(), (Shape{2, 8, 6, 5}));

    const Tensor q3 = query.reshape({16, 6, 4});
    const Tensor v3 = value.reshape({16, 5, 4});
    DenseAttentionCallArgs args3 = args;
    args3.query_mask = args.query_mask->reshape({16, 6});
    args3.value_mask = args.value_mask->reshape({16, 5});
    const AttentionOutput flat = call_with_scores(layer, {q3, v3}, args3);
    EXPECT_EQ(out.output.to_vector(), flat.output.to_vector()) << mode;
    EXPECT_EQ(out.attention_scores->to_vector(), flat.attention_scores->to_vector()) << mode;

    const Tensor self = random_tensor({2, 8, 6, 4}, 14);
    EXPECT_EQ(layer.call(self, self).output.shape(), (Shape{2, 8, 6, 4}));
  }
}

TEST(Attention, CausalMaskIsTopLeftLowerTriangle) {
  // _calculate_score_mask: query i may attend key j iff j <= i, also when Tq != Tv.
  Attention layer;
  DenseAttentionCallArgs args;
  args.use_causal_mask = true;
  const AttentionOutput out =
      call_with_scores(layer, {random_tensor({1, 3, 2}, 15), random_tensor({1, 5, 2}, 16)}, args);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      if (j > i) {
        EXPECT_EQ((*out.attention_scores)(0, i, j), 0.0f) << i << "," << j;
      } else {
        EXPECT_GT((*out.attention_scores)(0, i, j), 0.0f) << i << "," << j;
      }
    }
  }
}

TEST(Attention, CausalMaskAndsWithValueMask) {
  // _calculate_score_mask with a value mask: causal AND value_mask[:, None, :].
  Attention layer;
  DenseAttentionCallArgs args;
  args.use_causal_mask = true;
  args.value_mask = Mask({1, 4}, {true, false, true, false});
  const AttentionOutput out =
      call_with_scores(layer, {random_tensor({1, 3, 2}, 17), random_tensor({1, 4, 2}, 18)}, args);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      const bool kept = j <= i && (j == 0 || j == 2);
      EXPECT_EQ((*out.attention_scores)(0, i, j) > 0.0f, kept) << i << "," << j;
    }
  }
}

TEST(Attention, FullyMaskedRowIsUniformForSmallScores) {
  // Keras subtracts 1e9 in float32: every masked score rounds to -1e9 while |score| <= 32.
  Attention layer;
  DenseAttentionCallArgs args;
  args.value_mask = Mask::full({1, 4}, false);
  const AttentionOutput out =
      call_with_scores(layer, {random_tensor({1, 2, 3}, 19), random_tensor({1, 4, 3}, 20)}, args);
  for (float p : out.attention_scores->to_vector()) EXPECT_EQ(p, 0.25f);
}

TEST(Attention, FullyMaskedRowIsNotUniformForLargeScores) {
  // With |score| > 32 the float32 spacing near 1e9 (64) no longer absorbs the score: scores
  // 0 and 100 become -1e9 and -1e9 + 128, so the second key takes all the weight.
  Attention layer;
  DenseAttentionCallArgs args;
  args.value_mask = Mask::full({1, 2}, false);
  const Tensor query({1, 1, 1}, {10.0f});
  const Tensor value({1, 2, 1}, {0.0f, 10.0f});
  const AttentionOutput out = call_with_scores(layer, {query, value}, args);
  EXPECT_EQ(out.attention_scores->to_vector(), (std::vector<float>{0.0f, 1.0f}));
}

TEST(Attention, AcceptsStridedViews) {
  // A transposed view computes the same as its contiguous copy.
  Attention layer;
  const Tensor base = random_tensor({2, 4, 3}, 21);
  const Tensor query = base.transpose(1, 2);  // (2, 3, 4), not contiguous
  const Tensor value = random_tensor({2, 5, 4}, 22);
  EXPECT_EQ(layer.call(query, value).output.to_vector(),
            layer.call(query.clone(), value).output.to_vector());
}

TEST(Attention, ConfigMatchesKerasKeysAndRoundTrips) {
  Attention layer({.use_scale = true,
                   .score_mode = "concat",
                   .dropout = 0.25,
                   .seed = 1337,
                   .name = "luong",
                   .trainable = false});
  const Config config = layer.get_config();
  const Config expected = {{"name", "luong"},
                           {"trainable", false},
                           {"dtype",
                            {{"module", "keras"},
                             {"class_name", "DTypePolicy"},
                             {"config", {{"name", "float32"}}},
                             {"registered_name", nullptr}}},
                           {"use_scale", true},
                           {"score_mode", "concat"},
                           {"dropout", 0.25},
                           {"seed", 1337}};
  EXPECT_EQ(config, expected);
  const std::unique_ptr<Attention> copy = Attention::from_config(config);
  EXPECT_EQ(copy->get_config(), config);
  EXPECT_EQ(copy->name(), "luong");
  EXPECT_EQ(copy->score_mode(), "concat");
  EXPECT_EQ(copy->seed(), std::optional<int64_t>(1337));

  const Config defaults = Attention().get_config();
  EXPECT_EQ(defaults["name"], "attention");
  EXPECT_EQ(defaults["use_scale"], false);
  EXPECT_EQ(defaults["score_mode"], "dot");
  EXPECT_EQ(defaults["dropout"], 0.0);
  EXPECT_TRUE(defaults["seed"].is_null());
  EXPECT_EQ(Attention::from_config(defaults)->get_config(), defaults);
  // Absent keys take Keras's defaults (the name: the next auto name); a plain "float32" dtype is
  // accepted.
  Config unnamed = Attention::from_config(Config{{"dtype", "float32"}})->get_config();
  EXPECT_EQ(unnamed["name"], "attention_1");
  unnamed["name"] = "attention";
  EXPECT_EQ(unnamed, defaults);
}

TEST(Attention, FirstCallsFromManyThreadsBuildOnce) {
  const Tensor query = random_tensor({2, 3, 4}, 23);
  const Tensor value = random_tensor({2, 5, 4}, 24);
  Attention reference({.use_scale = true, .score_mode = "concat"});
  const std::vector<float> expected = reference.call(query, value).output.to_vector();

  Attention layer({.use_scale = true, .score_mode = "concat"});
  std::vector<std::vector<float>> results(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = layer.call(query, value).output.to_vector(); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(layer.weights().size(), 2u);
  for (const std::vector<float>& result : results) EXPECT_EQ(result, expected);
}

}  // namespace
}  // namespace kattn
