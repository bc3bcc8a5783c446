// Empty key/value sequences (S = 0): Keras's softmax over an empty axis gives no weights, and
// the weighted sum of no values is zeros, so every attention layer's attention output is zeros
// (MultiHeadAttention's and GroupQueryAttention's output projection then adds its bias).
#include <gtest/gtest.h>

#include "kattn/layers/attention.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"

namespace kattn {
namespace {

void expect_all(const Tensor& tensor, float value) {
  for (const float x : tensor.to_vector()) EXPECT_EQ(x, value);
}

TEST(EmptySequences, AttentionAndAdditiveAttentionGiveZeros) {
  Tensor query = Tensor::full({2, 3, 4}, 0.5f);
  const Tensor value({2, 0, 4});
  for (const std::string mode : {"dot", "concat"}) {
    for (const bool causal : {false, true}) {
      Attention layer({.use_scale = true, .score_mode = mode});
      DenseAttentionCallArgs args;
      args.return_attention_scores = true;
      args.use_causal_mask = causal;
      const AttentionOutput out = layer.call({query, value}, args);
      EXPECT_EQ(out.output.shape(), Shape({2, 3, 4}));
      expect_all(out.output, 0.0f);
      ASSERT_TRUE(out.attention_scores.has_value());
      EXPECT_EQ(out.attention_scores->shape(), Shape({2, 3, 0}));
    }
  }
  AdditiveAttention additive;
  const AttentionOutput out = additive.call({query, value}, {});
  EXPECT_EQ(out.output.shape(), Shape({2, 3, 4}));
  expect_all(out.output, 0.0f);
}

// The output projection's bias, broadcast over (B, T).
void expect_bias_rows(const Tensor& output, const Tensor& bias) {
  const std::vector<float> values = output.to_vector(), b = bias.to_vector();
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], b[i % b.size()]) << i;
}

TEST(EmptySequences, ProjectedAttentionGivesTheOutputBias) {
  const Tensor query = Tensor::full({2, 3, 4}, 0.5f);
  const Tensor value({2, 0, 4});
  MultiHeadAttention mha({.num_heads = 2, .key_dim = 3});
  for (const bool causal : {false, true}) {
    const auto out =
        mha.call(query, value, {.use_causal_mask = causal, .return_attention_scores = true});
    EXPECT_EQ(out.output.shape(), Shape({2, 3, 4}));
    expect_bias_rows(out.output, mha.weight("attention_output/bias"));
    ASSERT_TRUE(out.attention_scores.has_value());
    EXPECT_EQ(out.attention_scores->shape(), Shape({2, 2, 3, 0}));
  }
  GroupedQueryAttention gqa({.head_dim = 3, .num_query_heads = 2, .num_key_value_heads = 1});
  const auto out = gqa.call(query, value, {});
  EXPECT_EQ(out.output.shape(), Shape({2, 3, 4}));
  expect_bias_rows(out.output, gqa.weight("attention_output/bias"));
}

}  // namespace
}  // namespace kattn
