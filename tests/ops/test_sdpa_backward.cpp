// The weightless attention op's backward (ops::scaled_dot_product_attention_backward) against
// central finite differences of its forward, in double, over every option.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/ops/sdpa.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::FullyMaskedRows;
using ops::SdpaOptions;
using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;

struct Problem {
  std::string name;
  int64_t batch = 2, query_len = 5, key_len = 6, num_heads = 4, num_kv_heads = 2;
  SdpaOptions options{};
};

// A mask over (B, N, T, S) with query row 1 of every head fully masked.
Mask mask_with_fully_masked_row(const Problem& p, uint64_t seed) {
  Mask mask = random_mask({p.batch, p.num_heads, p.query_len, p.key_len}, seed);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t n = 0; n < p.num_heads; ++n)
      for (int64_t j = 0; j < p.key_len; ++j) mask(b, n, 1, j) = false;
  return mask;
}

std::vector<Problem> problems() {
  std::vector<Problem> out;
  out.push_back({.name = "plain", .options = {.scale = 0.4}});
  out.push_back({.name = "multi_head", .num_kv_heads = 4, .options = {.scale = 0.4}});
  out.push_back({.name = "multi_query", .num_kv_heads = 1, .options = {.scale = 0.4}});
  out.push_back({.name = "causal", .options = {.scale = 0.4, .is_causal = true}});
  out.push_back({.name = "causal_tq_gt_tv",
                 .query_len = 7,
                 .key_len = 4,
                 .options = {.scale = 0.4, .is_causal = true}});
  out.push_back({.name = "sliding_window", .options = {.scale = 0.4, .sliding_window = 2}});
  out.push_back(
      {.name = "broadcast_mask", .options = {.scale = 0.4, .mask = random_mask({2, 1, 5, 6}, 11)}});
  out.push_back(
      {.name = "dropout", .options = {.scale = 0.4, .dropout_rate = 0.3, .dropout_key = 1234}});
  out.push_back({.name = "dropout_and_mask_zero_path",
                 .options = {.scale = 0.4,
                             .mask = random_mask({2, 4, 5, 6}, 12),
                             .fully_masked_rows = FullyMaskedRows::kZero,
                             .dropout_rate = 0.5,
                             .dropout_key = 99}});
  for (const FullyMaskedRows rows : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
    Problem p{.name =
                  rows == FullyMaskedRows::kUniform ? "fully_masked_uniform" : "fully_masked_zero"};
    p.options = {
        .scale = 0.4, .mask = mask_with_fully_masked_row(p, 13), .fully_masked_rows = rows};
    out.push_back(p);
  }
  return out;
}

TEST(SdpaBackward, ReferenceAgreesWithFiniteDifferencesInDouble) {
  for (const Problem& p : problems()) {
    SCOPED_TRACE(p.name);
    TensorF64 q = random_normal<double>({p.batch, p.query_len, p.num_heads, 3}, 1);
    TensorF64 k = random_normal<double>({p.batch, p.key_len, p.num_kv_heads, 3}, 2);
    TensorF64 v = random_normal<double>({p.batch, p.key_len, p.num_kv_heads, 2}, 3);
    const TensorF64 d_out = random_normal<double>({p.batch, p.query_len, p.num_heads, 2}, 4);
    const auto forward = ops::scaled_dot_product_attention(q, k, v, p.options);
    const auto grads =
        ops::scaled_dot_product_attention_backward(q, k, v, forward, d_out, p.options);
    const auto loss = [&] {
      return dot_sum(ops::scaled_dot_product_attention(q, k, v, p.options).output, d_out);
    };
    EXPECT_TRUE(gradients_agree(grads.query, numeric_gradient(q, loss, 1e-6), 1e-7, 1e-6));
    EXPECT_TRUE(gradients_agree(grads.key, numeric_gradient(k, loss, 1e-6), 1e-7, 1e-6));
    EXPECT_TRUE(gradients_agree(grads.value, numeric_gradient(v, loss, 1e-6), 1e-7, 1e-6));
  }
}

TEST(SdpaBackward, FullyMaskedRowsPassOnlyTheirValueGradient) {
  // One batch, one head, one query whose every key is masked.
  const Tensor q = random_normal({1, 1, 1, 3}, 5);
  const Tensor k = random_normal({1, 4, 1, 3}, 6);
  const Tensor v = random_normal({1, 4, 1, 2}, 7);
  const Tensor d_out({1, 1, 1, 2}, {1.0f, -2.0f});
  for (const FullyMaskedRows rows : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
    const SdpaOptions options{.mask = Mask::full({1, 1, 1, 4}, false), .fully_masked_rows = rows};
    const auto forward = ops::scaled_dot_product_attention(q, k, v, options);
    const auto grads = ops::scaled_dot_product_attention_backward(q, k, v, forward, d_out, options);
    const float share = rows == FullyMaskedRows::kUniform ? 0.25f : 0.0f;
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(grads.value(0, j, 0, 0), share * 1.0f);
      EXPECT_EQ(grads.value(0, j, 0, 1), share * -2.0f);
      for (int64_t h = 0; h < 3; ++h) EXPECT_EQ(grads.key(0, j, 0, h), 0.0f);
    }
    for (int64_t h = 0; h < 3; ++h) EXPECT_EQ(grads.query(0, 0, 0, h), 0.0f);
  }
}

TEST(SdpaBackward, FloatAgreesWithDouble) {
  const Tensor q = random_normal({2, 9, 4, 5}, 8);
  const Tensor k = random_normal({2, 7, 2, 5}, 9);
  const Tensor v = random_normal({2, 7, 2, 3}, 10);
  const Tensor d_out = random_normal({2, 9, 4, 3}, 11);
  const SdpaOptions options{.scale = 0.45,
                            .mask = random_mask({2, 1, 9, 7}, 12),
                            .is_causal = true,
                            .dropout_rate = 0.2,
                            .dropout_key = 5};
  const auto f32 = ops::scaled_dot_product_attention_backward(
      q, k, v, ops::scaled_dot_product_attention(q, k, v, options), d_out, options);
  const TensorF64 q64 = q.cast<double>(), k64 = k.cast<double>(), v64 = v.cast<double>();
  const auto f64 = ops::scaled_dot_product_attention_backward(
      q64, k64, v64, ops::scaled_dot_product_attention(q64, k64, v64, options),
      d_out.cast<double>(), options);
  EXPECT_TRUE(gradients_agree(f32.query, f64.query.cast<float>(), 1e-5, 1e-5));
  EXPECT_TRUE(gradients_agree(f32.key, f64.key.cast<float>(), 1e-5, 1e-5));
  EXPECT_TRUE(gradients_agree(f32.value, f64.value.cast<float>(), 1e-5, 1e-5));
}

TEST(SdpaBackward, RefusesAnUpstreamGradientOfTheWrongShape) {
  const Tensor q = random_normal({1, 2, 1, 3}, 1), k = random_normal({1, 4, 1, 3}, 2);
  const Tensor v = random_normal({1, 4, 1, 2}, 3);
  const auto forward = ops::scaled_dot_product_attention(q, k, v);
  const std::string message = testing::value_error_message([&] {
    ops::scaled_dot_product_attention_backward(q, k, v, forward, Tensor({1, 2, 1, 3}));
  });
  EXPECT_NE(message.find("d_output.shape=(1, 2, 1, 3)"), std::string::npos) << message;
  EXPECT_NE(message.find("(1, 2, 1, 2) (B, T, N, Hv)"), std::string::npos) << message;
}

}  // namespace
}  // namespace kattn
