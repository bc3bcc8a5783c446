// MultiHeadAttention against what Keras 3.16's own tests pin (docs: keras-test-expectations.md)
// and kattn's error messages.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "kattn/layers/multi_head_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::all_close;
using testing::random_mask;
using testing::random_normal;
using testing::value_error_message;

// (T, S) lower triangle, j <= i.
Mask tril(int64_t t, int64_t s) {
  Mask mask({t, s});
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < s; ++j) mask(i, j) = j <= i;
  return mask;
}

// `mask` (T, S) repeated over leading axes `lead` -> (*lead, T, S).
Mask tile(const Mask& mask, const Shape& lead) {
  Shape shape = lead;
  shape.push_back(mask.dim(0));
  shape.push_back(mask.dim(1));
  Mask out(shape);
  const int64_t block = mask.size();
  for (int64_t i = 0; i < out.size(); ++i) out.data()[i] = mask.data()[i % block];
  return out;
}

// A built layer whose weights are random normal values (so two layers can share them).
std::unique_ptr<MultiHeadAttention> built_mha(MultiHeadAttention::Args args, const Shape& query,
                                              const Shape& value, uint64_t seed = 7) {
  auto layer = std::make_unique<MultiHeadAttention>(std::move(args));
  layer->build(query, value);
  for (const Variable& variable : layer->weights()) {
    layer->set_weight(variable.name, random_normal(variable.value.shape(), seed++));
  }
  return layer;
}

// Keras test_correctness: identity projections, value = arange(64) / 100.
TEST(MultiHeadAttention, IdentityWeightsGiveKerasNumbers) {
  MultiHeadAttention layer({.num_heads = 8, .key_dim = 8});
  const Tensor eye = [] {
    Tensor t({1, 8, 8});
    for (int64_t i = 0; i < 8; ++i) t(0, i, i) = 1.0f;
    return t;
  }();
  Tensor value({1, 8, 8});
  for (int64_t i = 0; i < 64; ++i) value.data()[i] = static_cast<float>(i) / 100.0f;
  layer.build({1, 8, 8}, {1, 8, 8}, Shape{1, 8, 8});
  Tensor kernel({8, 8, 8});  // identity repeated over the head axis
  for (int64_t a = 0; a < 8; ++a)
    for (int64_t n = 0; n < 8; ++n) kernel(a, n, a) = 1.0f;
  const Tensor bias({8, 8});
  const Tensor output_bias({8});
  layer.set_weights({kernel, bias, kernel, bias, kernel, bias, kernel, output_bias});

  const float expected[8] = {2.407225f, 2.439446f, 2.471668f, 2.503890f,
                             2.536111f, 2.568332f, 2.600554f, 2.632775f};
  for (const bool scores : {false, true}) {  // dot_product_attention path, then einsum path
    const AttentionOutput out =
        layer.call(eye, value, {.key = eye, .return_attention_scores = scores});
    ASSERT_EQ(out.output.shape(), (Shape{1, 8, 8}));
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t d = 0; d < 8; ++d) EXPECT_NEAR(out.output(0, i, d), expected[i], 2e-6);
    ASSERT_EQ(out.attention_scores.has_value(), scores);
    if (scores) {
      ASSERT_EQ(out.attention_scores->shape(), (Shape{1, 8, 8, 8}));
      for (int64_t n = 0; n < 8; ++n)
        for (int64_t i = 0; i < 8; ++i)
          for (int64_t j = 0; j < 8; ++j) {
            EXPECT_NEAR((*out.attention_scores)(0, n, i, j), i == j ? 0.16905257f : 0.11870678f,
                        1e-7);
          }
    }
  }
}

TEST(MultiHeadAttention, CausalEqualsExplicitLowerTriangularMask) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 4}, {2, 5, 8}, {2, 5, 8});
  const Tensor x = random_normal({2, 5, 8}, 1);
  for (const bool scores : {false, true}) {
    const auto causal =
        layer->call(x, x, {.use_causal_mask = true, .return_attention_scores = scores});
    const auto explicit_mask = layer->call(
        x, x, {.attention_mask = tile(tril(5, 5), {1}), .return_attention_scores = scores});
    EXPECT_TRUE(all_close(causal.output, explicit_mask.output, 1e-6, 0));
  }
}

TEST(MultiHeadAttention, CausalWithExtraMaskEqualsTheirConjunction) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 4}, {2, 5, 8}, {2, 5, 8});
  const Tensor x = random_normal({2, 5, 8}, 2);
  Mask extra = Mask::full({2, 5, 5}, true);
  extra(0, 2, 3) = extra(1, 2, 3) = false;
  Mask merged = extra.clone();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 5; ++j) merged(b, i, j) = extra(b, i, j) && j <= i;
  for (const bool scores : {false, true}) {
    const auto both = layer->call(
        x, x,
        {.attention_mask = extra, .use_causal_mask = true, .return_attention_scores = scores});
    const auto explicit_mask =
        layer->call(x, x, {.attention_mask = merged, .return_attention_scores = scores});
    EXPECT_TRUE(all_close(both.output, explicit_mask.output, 1e-6, 0));
  }
}

TEST(MultiHeadAttention, CausalOnTheEinsumPathLeavesNoMassOnFutureKeys) {
  for (const double dropout : {0.0, 0.1}) {
    const auto layer =
        built_mha({.num_heads = 2, .key_dim = 4, .dropout = dropout}, {1, 6, 8}, {1, 6, 8});
    const Tensor x = random_normal({1, 6, 8}, 3);
    const auto out = layer->call(x, x, {.use_causal_mask = true, .return_attention_scores = true});
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 6; ++i)
        for (int64_t j = i + 1; j < 6; ++j) EXPECT_EQ((*out.attention_scores)(0, n, i, j), 0.0f);
    const auto causal = layer->call(x, x, {.use_causal_mask = true});
    const auto explicit_mask = layer->call(x, x, {.attention_mask = tile(tril(6, 6), {1})});
    EXPECT_TRUE(all_close(causal.output, explicit_mask.output, 1e-6, 0));
  }
}

TEST(MultiHeadAttention, CausalOverAxisOneOfRank4Inputs) {
  MultiHeadAttention layer({.num_heads = 2, .key_dim = 4, .attention_axes = {{1}}});
  const Tensor x = random_normal({1, 5, 3, 8}, 4);
  const auto out = layer.call(x, x, {.use_causal_mask = true, .return_attention_scores = true});
  // (B, other axes, N, T, S)
  ASSERT_EQ(out.attention_scores->shape(), (Shape{1, 3, 2, 5, 5}));
  double future = 0;
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = i + 1; j < 5; ++j) future += (*out.attention_scores)(0, a, n, i, j);
  EXPECT_EQ(future, 0.0);
}

TEST(MultiHeadAttention, AttentionMaskEncodingsAgree) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 4}, {2, 5, 8}, {2, 5, 8});
  const Tensor x = random_normal({2, 5, 8}, 5);
  const Mask ts = tril(5, 5);
  for (const bool scores : {false, true}) {
    const auto a = layer->call(x, x, {.attention_mask = ts, .return_attention_scores = scores});
    const auto b =
        layer->call(x, x, {.attention_mask = tile(ts, {2}), .return_attention_scores = scores});
    const auto c =
        layer->call(x, x, {.attention_mask = tile(ts, {2, 2}), .return_attention_scores = scores});
    EXPECT_TRUE(all_close(a.output, b.output, 0, 0));
    EXPECT_TRUE(all_close(a.output, c.output, 0, 0));
  }
}

// Keras test_masking: query and value Keras masks (and causal) equal the explicit mask
// query_mask[:, :, None] & value_mask[:, None, :] (& causal).
TEST(MultiHeadAttention, QueryAndValueMasksEqualExplicitAttentionMask) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 2}, {3, 5, 8}, {3, 3, 8});
  const Tensor query = random_normal({3, 5, 8}, 6);
  const Tensor value = random_normal({3, 3, 8}, 7);
  const Mask query_mask({3, 5}, {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
  const Mask value_mask({3, 3}, {1, 1, 0, 1, 0, 0, 1, 1, 1});
  for (const bool causal : {false, true}) {
    for (const bool scores : {false, true}) {
      Mask mask({3, 5, 3});
      for (int64_t b = 0; b < 3; ++b)
        for (int64_t i = 0; i < 5; ++i)
          for (int64_t j = 0; j < 3; ++j)
            mask(b, i, j) = query_mask(b, i) && value_mask(b, j) && (!causal || j <= i);
      const auto by_masks = layer->call(query, value,
                                        {.query_mask = query_mask,
                                         .value_mask = value_mask,
                                         .use_causal_mask = causal,
                                         .return_attention_scores = scores});
      const auto by_attention_mask =
          layer->call(query, value, {.attention_mask = mask, .return_attention_scores = scores});
      // The rows of masked queries (the uniform average of the values, on the fused path)
      // are summed apart from the kernel: equal up to rounding.
      EXPECT_TRUE(all_close(by_masks.output, by_attention_mask.output, 1e-6, 1e-6));
    }
  }
}

TEST(MultiHeadAttention, FullyMaskedRowDependsOnTheKerasPath) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 3}, {1, 2, 4}, {1, 3, 4});
  const Tensor query = random_normal({1, 2, 4}, 8);
  const Tensor value = random_normal({1, 3, 4}, 9);
  const Mask query_mask({1, 2}, {true, false});
  const auto fused = layer->call(query, value, {.query_mask = query_mask});
  const auto einsum =
      layer->call(query, value, {.query_mask = query_mask, .return_attention_scores = true});
  // Einsum + Softmax path: zero context, so the output row is the output bias.
  const Tensor& bias = layer->weight("attention_output/bias");
  for (int64_t d = 0; d < 4; ++d) EXPECT_EQ(einsum.output(0, 1, d), bias(d));
  // dot_product_attention path: the uniform average of the values, which differs.
  EXPECT_FALSE(all_close(fused.output.slice(1, 1, 2), einsum.output.slice(1, 1, 2), 1e-3, 0));
  EXPECT_TRUE(all_close(fused.output.slice(1, 0, 1), einsum.output.slice(1, 0, 1), 1e-6, 0));
}

TEST(MultiHeadAttention, SlidingWindowLeavesExactZerosOutsideTheBand) {
  const Tensor x = random_normal({1, 6, 8}, 10);
  for (const bool causal : {true, false}) {
    MultiHeadAttention layer({.num_heads = 2, .key_dim = 4, .sliding_window = 3});
    const auto out = layer.call(x, x, {.use_causal_mask = causal, .return_attention_scores = true});
    for (int64_t i = 0; i < 6; ++i) {
      for (int64_t j = 0; j < 6; ++j) {
        const bool in_band = causal ? (j <= i && i - j < 3) : std::abs(i - j) < 3;
        if (in_band)
          EXPECT_GT((*out.attention_scores)(0, 0, i, j), 0.0f);
        else
          EXPECT_EQ((*out.attention_scores)(0, 0, i, j), 0.0f);
      }
    }
  }
}

TEST(MultiHeadAttention, NegativeAttentionAxesEqualPositive) {
  const Tensor x = random_normal({2, 3, 8, 4}, 11);
  for (const bool gate : {false, true}) {
    const auto pos =
        built_mha({.num_heads = 2, .key_dim = 4, .attention_axes = {{2}}, .use_gate = gate},
                  x.shape(), x.shape());
    const auto neg =
        built_mha({.num_heads = 2, .key_dim = 4, .attention_axes = {{-2}}, .use_gate = gate},
                  x.shape(), x.shape());
    EXPECT_EQ(neg->get_config()["attention_axes"], Config::array({2}));
    const auto a = pos->call(x, x, {.return_attention_scores = true});
    const auto b = neg->call(x, x, {.return_attention_scores = true});
    EXPECT_EQ(a.attention_scores->shape(), (Shape{2, 3, 2, 8, 8}));
    EXPECT_TRUE(all_close(a.output, b.output, 0, 0));
    EXPECT_TRUE(all_close(*a.attention_scores, *b.attention_scores, 0, 0));
  }
}

TEST(MultiHeadAttention, ShapesAndWeightCounts) {
  struct Case {
    MultiHeadAttention::Args args;
    size_t weights;
  };
  const Tensor query = random_normal({2, 8, 16}, 12);
  const Tensor value = random_normal({2, 4, 16}, 13);
  std::vector<Case> cases;
  cases.push_back({{.num_heads = 2, .key_dim = 2}, 8});
  cases.push_back(
      {{.num_heads = 2, .key_dim = 2, .value_dim = 4, .dropout = 0.5, .use_bias = false}, 4});
  cases.push_back({{.num_heads = 2, .key_dim = 2, .use_gate = true}, 10});
  cases.push_back({{.num_heads = 2,
                    .key_dim = 2,
                    .value_dim = 4,
                    .dropout = 0.5,
                    .use_bias = false,
                    .use_gate = true},
                   5});
  for (Case& c : cases) {
    MultiHeadAttention layer(std::move(c.args));
    EXPECT_EQ(layer.call(query, value, {.training = true}).output.shape(), (Shape{2, 8, 16}));
    EXPECT_EQ(layer.weights().size(), c.weights);
  }
}

TEST(MultiHeadAttention, HighDimensionalAttentionKeepsTheQueryShape) {
  struct Case {
    Shape q_dims, v_dims;
    std::vector<int64_t> axes;
  };
  for (const Case& c : {Case{{3, 4}, {3, 2}, {2}}, Case{{3, 4}, {3, 2}, {1, 2}},
                        Case{{5, 3, 4}, {5, 3, 2}, {2, 3}}}) {
    Shape query_shape{3};
    query_shape.insert(query_shape.end(), c.q_dims.begin(), c.q_dims.end());
    query_shape.push_back(8);
    Shape value_shape{3};
    value_shape.insert(value_shape.end(), c.v_dims.begin(), c.v_dims.end());
    value_shape.push_back(8);
    for (const bool gate : {false, true}) {
      MultiHeadAttention layer(
          {.num_heads = 2, .key_dim = 2, .attention_axes = c.axes, .use_gate = gate});
      const auto out = layer.call(random_normal(query_shape, 14), random_normal(value_shape, 15));
      EXPECT_EQ(out.output.shape(), query_shape);
      EXPECT_EQ(layer.weights().size(), gate ? 10u : 8u);
    }
  }
}

TEST(MultiHeadAttention, ComputeOutputShapeMatchesTheCall) {
  struct Case {
    Shape query, value;
    std::optional<Shape> key;
    std::optional<Shape> output_shape;
  };
  const std::vector<Case> cases = {
      {{7, 4, 8}, {7, 2, 8}, std::nullopt, std::nullopt},
      {{7, 4, 8}, {7, 2, 8}, Shape{7, 2, 3}, std::nullopt},
      {{7, 4, 8}, {7, 2, 8}, std::nullopt, Shape{3, 4}},
      {{7, 4, 8}, {7, 2, 8}, Shape{7, 2, 3}, Shape{1, 5}},
      {{7, 4, 2, 3, 8}, {7, 1, 1, 5, 8}, Shape{7, 1, 1, 5, 2}, std::nullopt},
      {{7, 4, 2, 3, 8}, {7, 1, 1, 5, 8}, Shape{7, 1, 1, 5, 2}, Shape{3, 2}},
      {{7, 4, 2, 3, 8}, {7, 4, 2, 3, 7}, Shape{7, 4, 2, 3, 8}, std::nullopt},
  };
  for (const Case& c : cases) {
    MultiHeadAttention layer(
        {.num_heads = 2, .key_dim = 2, .value_dim = 2, .output_shape = c.output_shape});
    MultiHeadAttention::CallArgs args;
    if (c.key) args.key = Tensor::full(*c.key, 1.0f);
    const auto out = layer.call(Tensor::full(c.query, 1.0f), Tensor::full(c.value, 1.0f), args);
    EXPECT_EQ(out.output.shape(), layer.compute_output_shape(c.query, c.value, c.key));
  }
}

TEST(MultiHeadAttention, OutputShapeIntAndTuple) {
  const Tensor x = random_normal({2, 4, 16}, 16);
  MultiHeadAttention as_int({.num_heads = 2, .key_dim = 16, .output_shape = Shape{8}});
  EXPECT_EQ(as_int.call(x, x).output.shape(), (Shape{2, 4, 8}));
  MultiHeadAttention as_tuple({.num_heads = 2, .key_dim = 16, .output_shape = Shape{8, 8}});
  EXPECT_EQ(as_tuple.call(x, x).output.shape(), (Shape{2, 4, 8, 8}));
  EXPECT_EQ(as_tuple.weight("attention_output/kernel").shape(), (Shape{2, 16, 8, 8}));
  // A config's int output_shape is the 1-tuple.
  Config config = as_int.get_config();
  config["output_shape"] = 8;
  EXPECT_EQ(MultiHeadAttention::from_config(config)->get_config()["output_shape"],
            Config::array({8}));
}

TEST(MultiHeadAttention, ConfigRoundTripsWithKerasKeys) {
  MultiHeadAttention layer({.num_heads = 3,
                            .key_dim = 4,
                            .value_dim = 5,
                            .dropout = 0.25,
                            .output_shape = Shape{2, 3},
                            .attention_axes = {{-2}},
                            .flash_attention = false,
                            .kernel = {.regularizer = {{"module", "keras.regularizers"},
                                                       {"class_name", "L2"},
                                                       {"config", {{"l2", 0.01}}},
                                                       {"registered_name", nullptr}}},
                            .bias = {.constraint = "non_neg"},
                            .use_gate = true,
                            .sliding_window = 4,
                            .seed = 1337,
                            .name = "mha"});
  Config config = layer.get_config();
  EXPECT_FALSE(config.contains("flash_attention"));
  EXPECT_EQ(config["attention_axes"], Config::array({-2}));  // as given until built
  EXPECT_EQ(config["seed"], 1337);
  EXPECT_EQ(config["bias_constraint"], "non_neg");
  EXPECT_EQ(MultiHeadAttention::from_config(config)->get_config(), config);
  layer.build({2, 3, 5, 6}, {2, 3, 7, 6});
  EXPECT_EQ(layer.get_config()["attention_axes"], Config::array({2}));

  MultiHeadAttention plain({.num_heads = 2, .key_dim = 2});
  EXPECT_TRUE(plain.get_config()["attention_axes"].is_null());
  EXPECT_EQ(plain.get_config()["value_dim"], 2);
  EXPECT_EQ(plain.get_config()["name"], "multi_head_attention");
  plain.build({1, 3, 4}, {1, 3, 4});
  EXPECT_EQ(plain.get_config()["attention_axes"], Config::array({1}));

  Config unknown = config;
  unknown["num_head"] = 2;
  EXPECT_EQ(value_error_message([&] { (void)MultiHeadAttention::from_config(unknown); }),
            "MultiHeadAttention 'mha': unrecognized keyword arguments in the config. Expected "
            "only the keys of MultiHeadAttention.get_config(). Received: {'num_head': 2}.");
}

TEST(MultiHeadAttention, SublayersGetDistinctInitialKernels) {
  MultiHeadAttention layer({.num_heads = 2, .key_dim = 8, .use_gate = true});
  layer.build({2, 4, 8}, {2, 4, 8});
  const Tensor& query = layer.weight("query/kernel");
  for (const char* other : {"key/kernel", "value/kernel", "gate/kernel"}) {
    EXPECT_FALSE(all_close(query, layer.weight(other), 1e-3, 0)) << other;
  }
  EXPECT_EQ(layer.weight("query/bias").to_vector(), std::vector<float>(16, 0.0f));
  // Paths and names both address a weight.
  EXPECT_EQ(&layer.weight("multi_head_attention/key/kernel"), &layer.weight("key/kernel"));
}

TEST(MultiHeadAttention, DropoutActsOnlyInTraining) {
  const auto layer =
      built_mha({.num_heads = 2, .key_dim = 4, .dropout = 0.5, .seed = 3}, {2, 5, 8}, {2, 6, 8});
  const Tensor query = random_normal({2, 5, 8}, 17);
  const Tensor value = random_normal({2, 6, 8}, 18);
  const auto inference = layer->call(query, value, {.return_attention_scores = true});
  const auto training =
      layer->call(query, value, {.return_attention_scores = true, .training = true});
  EXPECT_FALSE(all_close(inference.output, training.output, 1e-3, 0));
  // The returned scores are the probabilities before dropout.
  EXPECT_TRUE(all_close(*inference.attention_scores, *training.attention_scores, 0, 0));
  // Inference with dropout configured equals a layer without dropout (to rounding: asking for
  // scores normalises the probabilities before the product with the values, not after).
  const auto no_dropout = built_mha({.num_heads = 2, .key_dim = 4}, {2, 5, 8}, {2, 6, 8});
  EXPECT_TRUE(all_close(inference.output, no_dropout->call(query, value).output, 1e-6, 1e-6));
  // The same seed gives the same sequence of dropout masks.
  const auto twin =
      built_mha({.num_heads = 2, .key_dim = 4, .dropout = 0.5, .seed = 3}, {2, 5, 8}, {2, 6, 8});
  const auto first = twin->call(query, value, {.return_attention_scores = true, .training = true});
  EXPECT_TRUE(all_close(first.output, training.output, 0, 0));
}

TEST(MultiHeadAttention, CallIsSafeFromSeveralThreads) {
  const Tensor query = random_normal({3, 7, 8}, 19);
  const Tensor value = random_normal({3, 9, 6}, 20);
  const MultiHeadAttention::CallArgs args{.value_mask = random_mask({3, 9}, 21),
                                          .use_causal_mask = true,
                                          .return_attention_scores = true};
  const MultiHeadAttention::Args layer_args{
      .num_heads = 4, .key_dim = 5, .kernel = {.initializer = Initializer::glorot_uniform(42)}};
  const MultiHeadAttention reference_layer(layer_args);
  const AttentionOutput reference = reference_layer.call(query, value, args);

  // A fresh layer (same seeded initializer) built by whichever thread calls first.
  const MultiHeadAttention shared(layer_args);
  std::vector<AttentionOutput> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) results[t] = shared.call(query, value, args);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const AttentionOutput& result : results) {
    EXPECT_TRUE(all_close(result.output, reference.output, 0, 0));
    EXPECT_TRUE(all_close(*result.attention_scores, *reference.attention_scores, 0, 0));
  }
}

TEST(MultiHeadAttention, RejectsInvalidConstructorArguments) {
  EXPECT_EQ(value_error_message([] { MultiHeadAttention({.num_heads = 0, .key_dim = 4}); }),
            "MultiHeadAttention 'multi_head_attention': Invalid value for argument `num_heads`. "
            "Expected a positive integer. Received: num_heads=0.");
  EXPECT_EQ(value_error_message(
                [] { MultiHeadAttention({.num_heads = -2, .key_dim = 4, .name = "mha"}); }),
            "MultiHeadAttention 'mha': Invalid value for argument `num_heads`. Expected a "
            "positive integer. Received: num_heads=-2.");
  EXPECT_EQ(value_error_message(
                [] { MultiHeadAttention({.num_heads = 4, .key_dim = 0, .name = "mha"}); }),
            "MultiHeadAttention 'mha': Invalid value for argument `key_dim`. Expected a "
            "positive integer. Received: key_dim=0.");
  EXPECT_EQ(value_error_message([] {
              MultiHeadAttention({.num_heads = 4, .key_dim = 4, .value_dim = -2, .name = "mha"});
            }),
            "MultiHeadAttention 'mha': Invalid value for argument `value_dim`. Expected a "
            "positive integer. Received: value_dim=-2.");
  Config config = MultiHeadAttention({.num_heads = 4, .key_dim = 4, .name = "mha"}).get_config();
  config["num_heads"] = 1.5;
  EXPECT_EQ(value_error_message([&] { (void)MultiHeadAttention::from_config(config); }),
            "MultiHeadAttention 'mha': Invalid value for argument `num_heads`. Expected a "
            "positive integer. Received: num_heads=1.5.");
  config["num_heads"] = 4;
  config["output_shape"] = 8.0;
  EXPECT_EQ(value_error_message([&] { (void)MultiHeadAttention::from_config(config); }),
            "MultiHeadAttention 'mha': Invalid `output_shape`. Expected an int or a tuple of "
            "positive ints (the output's trailing dimensions). Received: output_shape=8.0.");
  EXPECT_EQ(value_error_message([] {
              MultiHeadAttention(
                  {.num_heads = 2, .key_dim = 4, .output_shape = Shape{8, 0}, .name = "mha"});
            }),
            "MultiHeadAttention 'mha': Invalid `output_shape`. Expected an int or a tuple of "
            "positive ints (the output's trailing dimensions). Received: output_shape=(8, 0).");
  for (const int64_t window : {0, -3}) {
    EXPECT_EQ(value_error_message([&] {
                MultiHeadAttention(
                    {.num_heads = 2, .key_dim = 4, .sliding_window = window, .name = "mha"});
              }),
              "MultiHeadAttention 'mha': Invalid value for argument `sliding_window`. Expected a "
              "positive integer or None. Received: sliding_window=" +
                  std::to_string(window) + ".");
  }
  EXPECT_EQ(value_error_message([] {
              MultiHeadAttention({.num_heads = 2, .key_dim = 4, .dropout = 1.0, .name = "mha"});
            }),
            "MultiHeadAttention 'mha': Invalid value for argument `dropout`. Expected a float "
            "in [0, 1). Received: dropout=1.0.");
  EXPECT_EQ(
      value_error_message([] {
        MultiHeadAttention(
            {.num_heads = 2, .key_dim = 2, .dropout = 0.1, .flash_attention = true, .name = "mha"});
      }),
      "MultiHeadAttention 'mha': Dropout is not supported when flash attention is "
      "enabled. Please set dropout to 0.0 to use flash attention. Expected dropout=0.0 "
      "with flash_attention=True. Received: dropout=0.1.");
}

TEST(MultiHeadAttention, RejectsReturnedScoresWithFlashAttention) {
  MultiHeadAttention layer({.num_heads = 2, .key_dim = 2, .flash_attention = true, .name = "mha"});
  const Tensor x = random_normal({2, 4, 8}, 22);
  EXPECT_EQ(value_error_message([&] { (void)layer.call(x, x, {.return_attention_scores = true}); }),
            "MultiHeadAttention 'mha': Returning attention scores is not supported when flash "
            "attention is enabled. Please disable flash attention to access attention scores. "
            "Expected return_attention_scores=False with flash_attention=True. Received: "
            "return_attention_scores=True.");
  EXPECT_EQ(layer.call(x, x).output.shape(), (Shape{2, 4, 8}));
}

TEST(MultiHeadAttention, RejectsAttentionAxesOutOfRange) {
  for (const int64_t axis : {0, 2, -1, -3}) {
    MultiHeadAttention layer(
        {.num_heads = 2, .key_dim = 2, .attention_axes = {{axis}}, .name = "mha"});
    EXPECT_EQ(value_error_message([&] {
                layer.build({2, 4, 8}, {2, 4, 8});
              }),
              "MultiHeadAttention 'mha': `attention_axes` out of range. Expected axes in [1, 1] "
              "or [-2, -2] for inputs of rank 3 (not the batch or the feature axis). Received: "
              "attention_axes=(" +
                  std::to_string(axis) + ",).");
  }
  MultiHeadAttention twice(
      {.num_heads = 2, .key_dim = 2, .attention_axes = {{1, -3}}, .name = "mha"});
  EXPECT_EQ(value_error_message([&] {
              twice.build({2, 4, 5, 8}, {2, 4, 5, 8});
            }),
            "MultiHeadAttention 'mha': `attention_axes` names an axis twice. Expected distinct "
            "axes. Received: attention_axes=(1, -3).");
}

TEST(MultiHeadAttention, RejectsValueAndKeyThatDifferBeforeTheLastAxis) {
  // Keras's test_shape_mismatch_error cases.
  struct Case {
    Shape query, value, key;
  };
  for (const Case& c : {Case{{2, 4, 8}, {2, 2, 7}, {2}}, Case{{2, 4, 8}, {2, 2, 8}, {2, 1, 7}},
                        Case{{2, 4, 2, 3, 8}, {2, 1, 1, 5, 8}, {2, 1, 15, 5, 2}}}) {
    MultiHeadAttention layer({.num_heads = 4, .key_dim = 2, .value_dim = 2, .name = "mha"});
    const std::string expected =
        "MultiHeadAttention 'mha': All dimensions of `value` and `key`, except the last one, "
        "must be equal. Expected value and key shapes that differ only in their last axis. "
        "Received: value_shape=" +
        shape_to_string(c.value) + " and key_shape=" + shape_to_string(c.key) + ".";
    EXPECT_EQ(
        value_error_message([&] { (void)layer.compute_output_shape(c.query, c.value, c.key); }),
        expected);
    EXPECT_EQ(value_error_message([&] {
                (void)layer.call(Tensor::full(c.query, 1), Tensor::full(c.value, 1),
                                 {.key = Tensor::full(c.key, 1)});
              }),
              expected);
  }
  // Query and value last dimensions may differ.
  MultiHeadAttention layer({.num_heads = 2, .key_dim = 2});
  EXPECT_EQ(layer.call(random_normal({2, 4, 8}, 23), random_normal({2, 3, 5}, 24)).output.shape(),
            (Shape{2, 4, 8}));
}

TEST(MultiHeadAttention, RejectsMasksOfTheWrongShape) {
  const auto layer = built_mha({.num_heads = 2, .key_dim = 2, .name = "mha"}, {2, 4, 8}, {2, 5, 8});
  const Tensor query = random_normal({2, 4, 8}, 25);
  const Tensor value = random_normal({2, 5, 8}, 26);
  EXPECT_EQ(value_error_message([&] {
              (void)layer->call(query, value, {.query_mask = Mask({2, 5})});
            }),
            "MultiHeadAttention 'mha': `query_mask` does not match `query`. Expected a mask of "
            "shape (2, 4) (query.shape[:-1]). Received: query_mask.shape=(2, 5).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer->call(query, value, {.value_mask = Mask({2, 4})});
            }),
            "MultiHeadAttention 'mha': `value_mask` does not match `value`. Expected a mask of "
            "shape (2, 5) (value.shape[:-1]). Received: value_mask.shape=(2, 4).");
  EXPECT_EQ(value_error_message([&] { (void)layer->call(query, value, {.key_mask = Mask({5})}); }),
            "MultiHeadAttention 'mha': `key_mask` does not match `key`. Expected a mask of "
            "shape (2, 5) (key.shape[:-1]). Received: key_mask.shape=(5,).");
  for (const Shape& bad :
       {Shape{2, 5, 4}, Shape{3, 4, 5}, Shape{5}, Shape{2, 3, 4, 5}, Shape{1, 2, 2, 4, 5}}) {
    EXPECT_EQ(value_error_message(
                  [&] { (void)layer->call(query, value, {.attention_mask = Mask(bad)}); }),
              "MultiHeadAttention 'mha': `attention_mask` does not broadcast to the attention "
              "scores. Expected a mask broadcastable to (2, 4, 5) or, per head, to (2, 2, 4, 5). "
              "Received: attention_mask.shape=" +
                  shape_to_string(bad) + ".");
  }
  // Broadcastable masks are accepted, as Keras broadcasts them.
  for (const Shape& ok : {Shape{4, 5}, Shape{1, 4, 5}, Shape{2, 1, 5}, Shape{1, 2, 4, 5}}) {
    EXPECT_EQ(layer->call(query, value, {.attention_mask = Mask::full(ok, true)}).output.shape(),
              (Shape{2, 4, 8}));
  }
}

TEST(MultiHeadAttention, RejectsInputsThatDoNotMatchTheBuiltShapes) {
  const auto layer =
      built_mha({.num_heads = 2, .key_dim = 2, .name = "mha"}, {-1, 4, 8}, {-1, 5, 6});
  EXPECT_EQ(value_error_message([&] {
              (void)layer->call(random_normal({2, 4, 7}, 27), random_normal({2, 5, 6}, 28));
            }),
            "MultiHeadAttention 'mha': input shapes do not match the shapes the layer was built "
            "for. Expected rank-3 inputs with last dimensions query 8, value 6, key 6. Received: "
            "query_shape=(2, 4, 7), value_shape=(2, 5, 6), key_shape=(2, 5, 6).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer->call(random_normal({2, 4, 8}, 27), random_normal({3, 5, 6}, 28));
            }),
            "MultiHeadAttention 'mha': `query` and `value` must be equal on the batch axis and "
            "on every axis outside attention_axes=(1,) but the last. Expected equal lengths on "
            "axis 0. Received: query_shape=(2, 4, 8), value_shape=(3, 5, 6).");
  // Other lengths are free: the weights fix only the last dimensions.
  EXPECT_EQ(layer->call(random_normal({1, 9, 8}, 29), random_normal({1, 2, 6}, 30)).output.shape(),
            (Shape{1, 9, 8}));
}

TEST(MultiHeadAttention, CausalMaskNeedsAxesItBroadcastsTo) {
  // Keras builds its causal mask from axis 1, which cannot serve attention over axis 2 of
  // these inputs (Keras fails inside Softmax); kattn refuses with a message.
  MultiHeadAttention layer({.num_heads = 2, .key_dim = 2, .attention_axes = {{2}}, .name = "mha"});
  const Tensor x = random_normal({2, 3, 5, 4}, 31);
  EXPECT_EQ(value_error_message([&] { (void)layer.call(x, x, {.use_causal_mask = true}); }),
            "MultiHeadAttention 'mha': use_causal_mask does not fit these attention axes: Keras "
            "builds its (1, T, S) mask from axis 1 of query and value. Expected attention over "
            "axis 1, or axes whose scores this mask broadcasts to ((2, 3, 2, 5, 5)). Received: "
            "mask shape (1, 3, 3).");
}

}  // namespace
}  // namespace kattn
