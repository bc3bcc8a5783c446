// GroupedQueryAttention against what Keras 3.16's own tests pin (docs:
// keras-test-expectations.md) and kattn's error messages.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::all_close;
using testing::random_mask;
using testing::random_normal;
using testing::value_error_message;

std::unique_ptr<GroupedQueryAttention> built_gqa(GroupedQueryAttention::Args args,
                                                 const Shape& query, const Shape& value,
                                                 uint64_t seed = 7) {
  auto layer = std::make_unique<GroupedQueryAttention>(std::move(args));
  layer->build(query, value);
  for (const Variable& variable : layer->weights()) {
    layer->set_weight(variable.name, random_normal(variable.value.shape(), seed++));
  }
  return layer;
}

Mask lower_triangle(int64_t batch, int64_t t) {
  Mask mask({batch, t, t});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j) mask(b, i, j) = j <= i;
  return mask;
}

TEST(GroupedQueryAttention, IdentityWeightsGiveKerasNumbers) {
  GroupedQueryAttention layer({.head_dim = 8, .num_query_heads = 8, .num_key_value_heads = 8});
  Tensor eye({1, 8, 8});
  for (int64_t i = 0; i < 8; ++i) eye(0, i, i) = 1.0f;
  Tensor value({1, 8, 8});
  for (int64_t i = 0; i < 64; ++i) value.data()[i] = static_cast<float>(i) / 100.0f;
  layer.build({1, 8, 8}, {1, 8, 8});
  Tensor kernel({8, 8, 8});
  for (int64_t a = 0; a < 8; ++a)
    for (int64_t n = 0; n < 8; ++n) kernel(a, n, a) = 1.0f;
  const Tensor bias({8, 8});
  layer.set_weights({kernel, bias, kernel, bias, kernel, bias, kernel, Tensor({8})});
  const float expected[8] = {2.407225f, 2.439446f, 2.471668f, 2.503890f,
                             2.536111f, 2.568332f, 2.600554f, 2.632775f};
  for (const bool scores : {false, true}) {
    const auto out = layer.call(eye, value, {.key = eye, .return_attention_scores = scores});
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t d = 0; d < 8; ++d) EXPECT_NEAR(out.output(0, i, d), expected[i], 2e-6);
    if (scores) {
      for (int64_t i = 0; i < 8; ++i)
        for (int64_t j = 0; j < 8; ++j) {
          EXPECT_NEAR((*out.attention_scores)(0, 3, i, j), i == j ? 0.16905257f : 0.11870678f,
                      1e-7);
        }
    }
  }
}

// Grouped heads read key/value head u / (N / K): the same as MultiHeadAttention whose key and
// value kernels repeat each key/value head N / K times.
TEST(GroupedQueryAttention, EqualsMultiHeadAttentionWithRepeatedKeyValueHeads) {
  const int64_t N = 6, K = 2, H = 3, D = 5;
  const auto gqa = built_gqa({.head_dim = H, .num_query_heads = N, .num_key_value_heads = K},
                             {2, 4, D}, {2, 7, D});
  MultiHeadAttention mha({.num_heads = N, .key_dim = H});
  mha.build({2, 4, D}, {2, 7, D});
  const auto repeat = [&](const Tensor& kv, bool kernel) {  // (D, K, H) -> (D, N, H)
    Tensor out(kernel ? Shape{D, N, H} : Shape{N, H});
    for (int64_t d = 0; d < (kernel ? D : 1); ++d)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h) {
          if (kernel)
            out(d, n, h) = kv(d, n / (N / K), h);
          else
            out(n, h) = kv(n / (N / K), h);
        }
    return out;
  };
  for (const char* name :
       {"query/kernel", "query/bias", "attention_output/kernel", "attention_output/bias"}) {
    mha.set_weight(name, gqa->weight(name));
  }
  mha.set_weight("key/kernel", repeat(gqa->weight("key/kernel"), true));
  mha.set_weight("key/bias", repeat(gqa->weight("key/bias"), false));
  mha.set_weight("value/kernel", repeat(gqa->weight("value/kernel"), true));
  mha.set_weight("value/bias", repeat(gqa->weight("value/bias"), false));
  const Tensor query = random_normal({2, 4, D}, 1);
  const Tensor value = random_normal({2, 7, D}, 2);
  for (const bool scores : {false, true}) {
    const ProjectedAttentionCallArgs args{.value_mask = random_mask({2, 7}, 3),
                                          .return_attention_scores = scores};
    const auto a = gqa->call(query, value, args);
    const auto b = mha.call(query, value, args);
    EXPECT_TRUE(all_close(a.output, b.output, 1e-6, 1e-6));
    if (scores) {
      EXPECT_TRUE(all_close(*a.attention_scores, *b.attention_scores, 1e-7, 0));
    }
  }
}

TEST(GroupedQueryAttention, CausalEqualsExplicitMaskAlsoWithAnExtraMask) {
  const auto layer = built_gqa({.head_dim = 4, .num_query_heads = 4, .num_key_value_heads = 2},
                               {2, 5, 16}, {2, 5, 16});
  const Tensor x = random_normal({2, 5, 16}, 4);
  Mask extra = Mask::full({2, 5, 5}, true);
  extra(0, 2, 3) = extra(1, 2, 3) = false;
  Mask merged = lower_triangle(2, 5);
  merged(0, 2, 3) = merged(1, 2, 3) = false;
  for (const bool scores : {false, true}) {
    const auto causal =
        layer->call(x, x, {.use_causal_mask = true, .return_attention_scores = scores});
    const auto explicit_mask = layer->call(
        x, x, {.attention_mask = lower_triangle(1, 5), .return_attention_scores = scores});
    EXPECT_TRUE(all_close(causal.output, explicit_mask.output, 1e-6, 0));
    const auto both = layer->call(
        x, x,
        {.attention_mask = extra, .use_causal_mask = true, .return_attention_scores = scores});
    const auto conjunction =
        layer->call(x, x, {.attention_mask = merged, .return_attention_scores = scores});
    EXPECT_TRUE(all_close(both.output, conjunction.output, 1e-6, 0));
  }
}

TEST(GroupedQueryAttention, AttentionMaskEncodingsAgree) {
  const auto layer = built_gqa({.head_dim = 4, .num_query_heads = 4, .num_key_value_heads = 2},
                               {2, 5, 8}, {2, 5, 8});
  const Tensor x = random_normal({2, 5, 8}, 5);
  Mask per_head({2, 4, 5, 5});
  for (int64_t i = 0; i < per_head.size(); ++i) {
    const int64_t row = (i / 5) % 5, col = i % 5;
    per_head.data()[i] = col <= row;
  }
  const auto a = layer->call(x, x, {.attention_mask = lower_triangle(1, 5).reshape({5, 5})});
  const auto b = layer->call(x, x, {.attention_mask = lower_triangle(2, 5)});
  const auto c = layer->call(x, x, {.attention_mask = per_head});
  EXPECT_TRUE(all_close(a.output, b.output, 0, 0));
  EXPECT_TRUE(all_close(a.output, c.output, 0, 0));
}

TEST(GroupedQueryAttention, QueryMaskIsHonoured) {
  const auto layer = built_gqa({.head_dim = 2, .num_query_heads = 2, .num_key_value_heads = 1},
                               {1, 3, 4}, {1, 3, 4});
  const Tensor query = random_normal({1, 3, 4}, 6);
  const Tensor value = random_normal({1, 3, 4}, 7);
  const auto out = layer->call(
      query, value,
      {.query_mask = Mask({1, 3}, {true, false, true}), .return_attention_scores = true});
  const Tensor& bias = layer->weight("attention_output/bias");
  for (int64_t d = 0; d < 4; ++d) EXPECT_EQ(out.output(0, 1, d), bias(d));
  for (int64_t j = 0; j < 3; ++j) EXPECT_EQ((*out.attention_scores)(0, 1, 1, j), 0.0f);
}

TEST(GroupedQueryAttention, SlidingWindowLeavesExactZerosOutsideTheBand) {
  const Tensor x = random_normal({1, 6, 8}, 8);
  GroupedQueryAttention layer(
      {.head_dim = 4, .num_query_heads = 4, .num_key_value_heads = 2, .sliding_window = 3});
  const auto out = layer.call(x, x, {.use_causal_mask = true, .return_attention_scores = true});
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      if (j <= i && i - j < 3)
        EXPECT_GT((*out.attention_scores)(0, 0, i, j), 0.0f);
      else
        EXPECT_EQ((*out.attention_scores)(0, 0, i, j), 0.0f);
    }
  }
}

TEST(GroupedQueryAttention, ShapesAndWeightCounts) {
  struct Case {
    GroupedQueryAttention::Args args;
    size_t weights;
  };
  std::vector<Case> cases;
  cases.push_back({{.head_dim = 2, .num_query_heads = 2, .num_key_value_heads = 2}, 8});
  cases.push_back({{.head_dim = 2,
                    .num_query_heads = 2,
                    .num_key_value_heads = 2,
                    .dropout = 0.5,
                    .use_bias = false},
                   4});
  cases.push_back(
      {{.head_dim = 2, .num_query_heads = 2, .num_key_value_heads = 2, .use_gate = true}, 10});
  cases.push_back({{.head_dim = 2,
                    .num_query_heads = 2,
                    .num_key_value_heads = 2,
                    .dropout = 0.5,
                    .use_bias = false,
                    .use_gate = true},
                   5});
  const Tensor query = random_normal({2, 8, 16}, 9);
  const Tensor value = random_normal({2, 4, 16}, 10);
  for (Case& c : cases) {
    GroupedQueryAttention layer(std::move(c.args));
    EXPECT_EQ(layer.call(query, value, {.training = true}).output.shape(), (Shape{2, 8, 16}));
    EXPECT_EQ(layer.weights().size(), c.weights);
  }
  // Keras's symbolic case: 4 query heads over 2 key/value heads, head_dim 8.
  GroupedQueryAttention layer({.head_dim = 8, .num_query_heads = 4, .num_key_value_heads = 2});
  const auto out = layer.call(random_normal({3, 10, 32}, 11), random_normal({3, 15, 32}, 12),
                              {.return_attention_scores = true});
  EXPECT_EQ(out.output.shape(), (Shape{3, 10, 32}));
  EXPECT_EQ(out.attention_scores->shape(), (Shape{3, 4, 10, 15}));
  EXPECT_EQ(layer.weight("key/kernel").shape(), (Shape{32, 2, 8}));
  EXPECT_EQ(layer.weight("attention_output/kernel").shape(), (Shape{4, 8, 32}));
}

TEST(GroupedQueryAttention, ComputeOutputShapeMatchesTheCall) {
  for (const auto& [q_heads, kv_heads] : {std::pair{2, 2}, std::pair{4, 2}, std::pair{4, 1}}) {
    for (const bool with_key : {false, true}) {
      GroupedQueryAttention layer(
          {.head_dim = 2, .num_query_heads = q_heads, .num_key_value_heads = kv_heads});
      std::optional<Shape> key_shape;
      ProjectedAttentionCallArgs args;
      if (with_key) {
        key_shape = Shape{7, 2, 3};
        args.key = Tensor::full(*key_shape, 1.0f);
      }
      const auto out =
          layer.call(Tensor::full({7, 4, 8}, 1.0f), Tensor::full({7, 2, 8}, 1.0f), args);
      EXPECT_EQ(out.output.shape(), layer.compute_output_shape({7, 4, 8}, {7, 2, 8}, key_shape));
    }
  }
}

TEST(GroupedQueryAttention, ConfigRoundTripsWithKerasKeys) {
  GroupedQueryAttention layer({.head_dim = 4,
                               .num_query_heads = 4,
                               .num_key_value_heads = 2,
                               .dropout = 0.1,
                               .use_gate = true,
                               .sliding_window = 5,
                               .kernel = {.constraint = "non_neg"},
                               .seed = 1337,
                               .name = "gqa"});
  const Config config = layer.get_config();
  for (const char* key :
       {"name", "trainable", "dtype", "head_dim", "num_query_heads", "num_key_value_heads",
        "use_bias", "use_gate", "sliding_window", "dropout", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint", "seed"}) {
    EXPECT_TRUE(config.contains(key)) << key;
  }
  EXPECT_EQ(config.size(), 18u);
  EXPECT_EQ(config["sliding_window"], 5);
  EXPECT_EQ(GroupedQueryAttention::from_config(config)->get_config(), config);
  EXPECT_EQ(GroupedQueryAttention({.head_dim = 1, .num_query_heads = 1, .num_key_value_heads = 1})
                .get_config()["name"],
            "grouped_query_attention");
  Config with_flash = config;
  with_flash["dropout"] = 0.0;
  with_flash["flash_attention"] = false;  // accepted, not serialised
  EXPECT_FALSE(
      GroupedQueryAttention::from_config(with_flash)->get_config().contains("flash_attention"));
}

TEST(GroupedQueryAttention, CallIsSafeFromSeveralThreads) {
  const Tensor query = random_normal({3, 6, 8}, 13);
  const Tensor value = random_normal({3, 9, 8}, 14);
  const ProjectedAttentionCallArgs args{.query_mask = random_mask({3, 6}, 15),
                                        .use_causal_mask = true};
  const GroupedQueryAttention::Args layer_args{
      .head_dim = 3,
      .num_query_heads = 6,
      .num_key_value_heads = 2,
      .kernel = {.initializer = Initializer::glorot_uniform(5)}};
  const AttentionOutput reference = GroupedQueryAttention(layer_args).call(query, value, args);
  const GroupedQueryAttention shared(layer_args);
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
  }
}

TEST(GroupedQueryAttention, RejectsInvalidConstructorArguments) {
  EXPECT_EQ(value_error_message([] {
              GroupedQueryAttention(
                  {.head_dim = 0, .num_query_heads = 4, .num_key_value_heads = 2, .name = "gqa"});
            }),
            "GroupQueryAttention 'gqa': Invalid value for argument `head_dim`. Expected a "
            "positive integer. Received: head_dim=0.");
  EXPECT_EQ(value_error_message([] {
              GroupedQueryAttention(
                  {.head_dim = 2, .num_query_heads = -1, .num_key_value_heads = 2, .name = "gqa"});
            }),
            "GroupQueryAttention 'gqa': Invalid value for argument `num_query_heads`. Expected "
            "a positive integer. Received: num_query_heads=-1.");
  EXPECT_EQ(value_error_message([] {
              GroupedQueryAttention(
                  {.head_dim = 2, .num_query_heads = 4, .num_key_value_heads = 0, .name = "gqa"});
            }),
            "GroupQueryAttention 'gqa': Invalid value for argument `num_key_value_heads`. "
            "Expected a positive integer. Received: num_key_value_heads=0.");
  EXPECT_EQ(value_error_message([] {
              GroupedQueryAttention(
                  {.head_dim = 2, .num_query_heads = 6, .num_key_value_heads = 4, .name = "gqa"});
            }),
            "GroupQueryAttention 'gqa': `num_query_heads` must be divisible by "
            "`num_key_value_heads`. Expected num_query_heads % num_key_value_heads == 0. "
            "Received: num_query_heads=6, num_key_value_heads=4.");
  EXPECT_EQ(value_error_message([] {
              GroupedQueryAttention({.head_dim = 2,
                                     .num_query_heads = 4,
                                     .num_key_value_heads = 2,
                                     .sliding_window = 0,
                                     .name = "gqa"});
            }),
            "GroupQueryAttention 'gqa': Invalid value for argument `sliding_window`. Expected "
            "a positive integer or None. Received: sliding_window=0.");
  Config config =
      GroupedQueryAttention(
          {.head_dim = 2, .num_query_heads = 4, .num_key_value_heads = 2, .name = "gqa"})
          .get_config();
  config["head_dim"] = 2.5;
  EXPECT_EQ(value_error_message([&] { (void)GroupedQueryAttention::from_config(config); }),
            "GroupQueryAttention 'gqa': Invalid value for argument `head_dim`. Expected a "
            "positive integer. Received: head_dim=2.5.");
}

TEST(GroupedQueryAttention, RejectsMismatchedShapes) {
  GroupedQueryAttention layer(
      {.head_dim = 2, .num_query_heads = 4, .num_key_value_heads = 4, .name = "gqa"});
  EXPECT_EQ(value_error_message([&] {
              (void)layer.compute_output_shape({2, 4, 8}, {2, 2, 7});
            }),
            "GroupQueryAttention 'gqa': The last dimension of `query_shape` and `value_shape` "
            "must be equal, but are 8, 7. Expected query and value with one feature dimension. "
            "Received: query_shape=(2, 4, 8), value_shape=(2, 2, 7).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer.call(Tensor::full({2, 4, 8}, 1), Tensor::full({2, 2, 7}, 1));
            }),
            "GroupQueryAttention 'gqa': The last dimension of `query_shape` and `value_shape` "
            "must be equal, but are 8, 7. Expected query and value with one feature dimension. "
            "Received: query_shape=(2, 4, 8), value_shape=(2, 2, 7).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer.compute_output_shape({2, 4, 8}, {2, 2, 8}, Shape{2, 1, 7});
            }),
            "GroupQueryAttention 'gqa': All dimensions of `value` and `key`, except the last "
            "one, must be equal. Expected value and key shapes that differ only in their last "
            "axis. Received: value_shape=(2, 2, 8) and key_shape=(2, 1, 7).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer.call(Tensor::full({2, 3, 4, 8}, 1), Tensor::full({2, 3, 4, 8}, 1));
            }),
            "GroupQueryAttention 'gqa': `query`, `value` and `key` must have rank 3. Expected "
            "shapes (batch, length, features). Received: query_shape=(2, 3, 4, 8), "
            "value_shape=(2, 3, 4, 8), key_shape=(2, 3, 4, 8).");
  layer.build({-1, 4, 8}, {-1, 5, 8});
  EXPECT_EQ(value_error_message([&] {
              (void)layer.call(Tensor::full({2, 4, 6}, 1), Tensor::full({2, 5, 6}, 1));
            }),
            "GroupQueryAttention 'gqa': input shapes do not match the shapes the layer was "
            "built for. Expected last dimensions query 8, value 8, key 8. Received: "
            "query_shape=(2, 4, 6), value_shape=(2, 5, 6), key_shape=(2, 5, 6).");
  EXPECT_EQ(value_error_message([&] {
              (void)layer.call(Tensor::full({2, 4, 8}, 1), Tensor::full({2, 5, 8}, 1),
                               {.attention_mask = Mask({2, 3, 4, 5})});
            }),
            "GroupQueryAttention 'gqa': `attention_mask` does not broadcast to the attention "
            "scores. Expected a mask broadcastable to (2, 4, 5) or, per head, to (2, 4, 4, 5). "
            "Received: attention_mask.shape=(2, 3, 4, 5).");
}

}  // namespace
}  // namespace kattn
