// Dropout on the attention distribution of Attention and AdditiveAttention (training calls
// only), seeded through the layer's SeedGenerator.
#include <gtest/gtest.h>

#include <cmath>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn {
namespace {

using testing::random_tensor;

DenseAttentionCallArgs training_call(bool training = true) {
  DenseAttentionCallArgs args;
  args.training = training;
  args.return_attention_scores = true;
  return args;
}

TEST(AttentionDropout, TrainingChangesOutputAndScores) {
  // test_attention_with_dropout: rate 0.2 against no dropout, both in training mode. Each
  // training call draws a fresh key, so some of these calls must drop an element.
  const Tensor query({1, 2, 2}, {1, 0, 0, 1});
  const Tensor value = Tensor::full({1, 2, 2}, 1.0f);
  Attention with_dropout({.dropout = 0.2});
  Attention without_dropout;
  const AttentionOutput reference = without_dropout.call(query, value, training_call());
  bool output_changed = false;
  bool scores_changed = false;
  for (int n = 0; n < 30; ++n) {
    const AttentionOutput out = with_dropout.call(query, value, training_call());
    output_changed = output_changed || out.output.to_vector() != reference.output.to_vector();
    scores_changed = scores_changed ||
                     out.attention_scores->to_vector() != reference.attention_scores->to_vector();
  }
  EXPECT_TRUE(output_changed);
  EXPECT_TRUE(scores_changed);

  // A larger problem (64 probabilities) changes on its first call.
  Attention layer({.dropout = 0.2, .seed = 1337});
  const Tensor q = random_tensor({1, 8, 4}, 41);
  const Tensor v = random_tensor({1, 8, 4}, 42);
  EXPECT_NE(layer.call(q, v, training_call()).output.to_vector(),
            without_dropout.call(q, v, training_call()).output.to_vector());
}

TEST(AttentionDropout, InferenceNeverDrops) {
  const Tensor q = random_tensor({2, 6, 4}, 43);
  const Tensor v = random_tensor({2, 7, 4}, 44);
  Attention dropping({.dropout = 0.5, .seed = 3});
  Attention plain;
  const AttentionOutput a = dropping.call(q, v, training_call(false));
  const AttentionOutput b = plain.call(q, v, training_call(false));
  EXPECT_EQ(a.output.to_vector(), b.output.to_vector());
  EXPECT_EQ(a.attention_scores->to_vector(), b.attention_scores->to_vector());
  // Dropout 0 in training mode is the identity too.
  EXPECT_EQ(plain.call(q, v, training_call(true)).output.to_vector(), b.output.to_vector());
}

TEST(AttentionDropout, SameSeedSameResultOnFreshLayers) {
  const Tensor q = random_tensor({2, 5, 3}, 45);
  const Tensor v = random_tensor({2, 6, 3}, 46);
  Attention first({.dropout = 0.3, .seed = 1337});
  Attention second({.dropout = 0.3, .seed = 1337});
  const AttentionOutput a1 = first.call(q, v, training_call());
  const AttentionOutput a2 = first.call(q, v, training_call());
  const AttentionOutput b1 = second.call(q, v, training_call());
  const AttentionOutput b2 = second.call(q, v, training_call());
  EXPECT_EQ(a1.output.to_vector(), b1.output.to_vector());
  EXPECT_EQ(a1.attention_scores->to_vector(), b1.attention_scores->to_vector());
  EXPECT_EQ(a2.attention_scores->to_vector(), b2.attention_scores->to_vector());
  // Successive calls of one layer draw different keys.
  EXPECT_NE(a1.attention_scores->to_vector(), a2.attention_scores->to_vector());
  // Another seed gives another mask.
  Attention other({.dropout = 0.3, .seed = 1338});
  EXPECT_NE(other.call(q, v, training_call()).attention_scores->to_vector(),
            a1.attention_scores->to_vector());
}

TEST(AttentionDropout, KeepsAboutOneMinusRateAndRescales) {
  const double rate = 0.2;
  const Tensor q = random_tensor({4, 64, 8}, 47);
  const Tensor v = random_tensor({4, 64, 8}, 48);
  Attention layer({.dropout = rate, .seed = 11});
  const AttentionOutput dropped = layer.call(q, v, training_call());
  const AttentionOutput full = layer.call(q, v, training_call(false));
  const std::vector<float> p = dropped.attention_scores->to_vector();
  const std::vector<float> p_full = full.attention_scores->to_vector();
  int64_t kept = 0;
  for (size_t n = 0; n < p.size(); ++n) {
    if (p[n] == 0.0f) continue;
    ++kept;
    EXPECT_EQ(p[n], p_full[n] / static_cast<float>(1.0 - rate)) << n;
  }
  // 16384 Bernoulli(0.8) draws: standard deviation of the fraction 0.0031; allow 5 of them.
  const double fraction = static_cast<double>(kept) / static_cast<double>(p.size());
  EXPECT_NEAR(fraction, 1.0 - rate,
              5 * std::sqrt(rate * (1 - rate) / static_cast<double>(p.size())));

  // The output is the dropped distribution times value (Keras: matmul(weights, value)).
  for (int64_t b = 0; b < 4; b += 3) {
    for (int64_t i = 0; i < 64; i += 21) {
      for (int64_t e = 0; e < 8; ++e) {
        double expected = 0;
        for (int64_t j = 0; j < 64; ++j) {
          expected += double((*dropped.attention_scores)(b, i, j)) * double(v(b, j, e));
        }
        EXPECT_NEAR(dropped.output(b, i, e), expected, 1e-5);
      }
    }
  }
}

TEST(AttentionDropout, AdditiveAttentionDropsToo) {
  const Tensor q = random_tensor({2, 8, 4}, 49);
  const Tensor v = random_tensor({2, 8, 4}, 50);
  AdditiveAttention a({.use_scale = false, .dropout = 0.4, .seed = 5});
  AdditiveAttention b({.use_scale = false, .dropout = 0.4, .seed = 5});
  AdditiveAttention plain({.use_scale = false});
  const AttentionOutput out = a.call(q, v, training_call());
  EXPECT_EQ(out.output.to_vector(), b.call(q, v, training_call()).output.to_vector());
  EXPECT_NE(out.output.to_vector(), plain.call(q, v, training_call()).output.to_vector());
  EXPECT_EQ(a.call(q, v, training_call(false)).output.to_vector(),
            plain.call(q, v, training_call(false)).output.to_vector());
}

TEST(AttentionDropout, SeedRoundTripsThroughConfig) {
  // test_attention_with_dropout's seed check: seed 1337 is kept in get_config.
  Attention layer({.dropout = 0.2, .seed = 1337});
  const Config config = layer.get_config();
  EXPECT_EQ(config["seed"], 1337);
  EXPECT_EQ(config["dropout"], 0.2);
  const std::unique_ptr<Attention> copy = Attention::from_config(config);
  EXPECT_EQ(copy->seed(), std::optional<int64_t>(1337));
  EXPECT_EQ(copy->dropout(), 0.2);
  const Tensor q = random_tensor({1, 6, 3}, 51);
  EXPECT_EQ(copy->call(q, q, training_call()).output.to_vector(),
            layer.call(q, q, training_call()).output.to_vector());

  EXPECT_EQ(AdditiveAttention::from_config(AdditiveAttention({.seed = 9}).get_config())->seed(),
            std::optional<int64_t>(9));
  EXPECT_TRUE(Attention().get_config()["seed"].is_null());
  EXPECT_FALSE(Attention::from_config(Attention().get_config())->seed().has_value());
}

}  // namespace
}  // namespace kattn
