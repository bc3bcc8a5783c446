// The weightless attention op (kattn/ops/sdpa.hpp) against hand-built equivalents.
#include <gtest/gtest.h>

#include <cmath>

#include "kattn/core/random.hpp"
#include "kattn/ops/sdpa.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::FullyMaskedRows;
using ops::scaled_dot_product_attention;
using ops::SdpaOptions;
using testing::all_close;
using testing::random_mask;
using testing::random_normal;

// (B, S, K, H) -> (B, S, K * repeats, H), each head repeated `repeats` times consecutively
// (what Keras's GroupedQueryAttention does with ops.repeat before attending).
Tensor repeat_heads(const Tensor& x, int64_t repeats) {
  Tensor out({x.dim(0), x.dim(1), x.dim(2) * repeats, x.dim(3)});
  for (int64_t b = 0; b < x.dim(0); ++b)
    for (int64_t s = 0; s < x.dim(1); ++s)
      for (int64_t k = 0; k < x.dim(2); ++k)
        for (int64_t r = 0; r < repeats; ++r)
          for (int64_t h = 0; h < x.dim(3); ++h) out(b, s, k * repeats + r, h) = x(b, s, k, h);
  return out;
}

TEST(Sdpa, FloatAgreesWithDouble) {
  const Tensor q = random_normal({2, 5, 4, 3}, 1);
  const Tensor k = random_normal({2, 6, 2, 3}, 2);
  const Tensor v = random_normal({2, 6, 2, 7}, 3);
  SdpaOptions options{
      .scale = 1.0 / std::sqrt(3.0), .mask = random_mask({2, 1, 5, 6}, 4), .return_scores = true};
  const auto f32 = scaled_dot_product_attention(q, k, v, options);
  const auto f64 =
      scaled_dot_product_attention(q.cast<double>(), k.cast<double>(), v.cast<double>(), options);
  EXPECT_EQ(f32.output.shape(), (Shape{2, 5, 4, 7}));
  EXPECT_EQ(f32.scores->shape(), (Shape{2, 4, 5, 6}));
  EXPECT_TRUE(all_close(f32.output, f64.output, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(*f32.scores, *f64.scores, 1e-6, 1e-6));
}

TEST(Sdpa, GroupedHeadsReadKeyValueHeadByIndex) {
  // 6 query heads over 2 key/value heads: query head n reads key/value head n / 3.
  const Tensor q = random_normal({2, 4, 6, 3}, 5);
  const Tensor k = random_normal({2, 5, 2, 3}, 6);
  const Tensor v = random_normal({2, 5, 2, 2}, 7);
  const SdpaOptions options{.scale = 0.5, .return_scores = true};
  const auto grouped = scaled_dot_product_attention(q, k, v, options);
  const auto repeated =
      scaled_dot_product_attention(q, repeat_heads(k, 3), repeat_heads(v, 3), options);
  EXPECT_TRUE(all_close(grouped.output, repeated.output, 0.0, 0.0));
  EXPECT_TRUE(all_close(*grouped.scores, *repeated.scores, 0.0, 0.0));
}

TEST(Sdpa, FullyMaskedRowIsUniformOnTheDotProductPath) {
  const Tensor q = random_normal({1, 2, 1, 2}, 8);
  const Tensor k = random_normal({1, 3, 1, 2}, 9);
  const Tensor v = random_normal({1, 3, 1, 2}, 10);
  Mask mask({1, 1, 2, 3});
  mask.fill(true);
  for (int64_t j = 0; j < 3; ++j) mask(0, 0, 1, j) = false;  // query row 1 sees nothing
  mask(0, 0, 0, 2) = false;
  const auto result = scaled_dot_product_attention(
      q, k, v,
      {.mask = mask, .fully_masked_rows = FullyMaskedRows::kUniform, .return_scores = true});
  for (int64_t h = 0; h < 2; ++h) {
    const float mean = (v(0, 0, 0, h) + v(0, 1, 0, h) + v(0, 2, 0, h)) / 3.0f;
    EXPECT_NEAR(result.output(0, 1, 0, h), mean, 1e-6);
  }
  for (int64_t j = 0; j < 3; ++j) EXPECT_FLOAT_EQ((*result.scores)(0, 0, 1, j), 1.0f / 3.0f);
  EXPECT_EQ((*result.scores)(0, 0, 0, 2), 0.0f);  // partially masked row: exact zero
}

TEST(Sdpa, FullyMaskedRowIsZeroOnTheSoftmaxLayerPath) {
  const Tensor q = random_normal({1, 2, 1, 2}, 8);
  const Tensor k = random_normal({1, 3, 1, 2}, 9);
  const Tensor v = random_normal({1, 3, 1, 2}, 10);
  Mask mask({1, 1, 2, 3});
  mask.fill(true);
  for (int64_t j = 0; j < 3; ++j) mask(0, 0, 1, j) = false;
  const auto result = scaled_dot_product_attention(
      q, k, v, {.mask = mask, .fully_masked_rows = FullyMaskedRows::kZero, .return_scores = true});
  for (int64_t h = 0; h < 2; ++h) EXPECT_EQ(result.output(0, 1, 0, h), 0.0f);
  for (int64_t j = 0; j < 3; ++j) EXPECT_EQ((*result.scores)(0, 0, 1, j), 0.0f);
  // The unmasked row is the same on both paths.
  const auto uniform = scaled_dot_product_attention(q, k, v, {.mask = mask, .return_scores = true});
  for (int64_t h = 0; h < 2; ++h) EXPECT_EQ(result.output(0, 0, 0, h), uniform.output(0, 0, 0, h));
}

TEST(Sdpa, CausalAndSlidingWindowEqualExplicitMasks) {
  const Tensor q = random_normal({2, 6, 2, 3}, 11);
  const Tensor k = random_normal({2, 6, 2, 3}, 12);
  const Tensor v = random_normal({2, 6, 2, 3}, 13);
  for (const bool causal : {false, true}) {
    for (const int64_t window : {0, 1, 2, 4}) {
      Mask mask({1, 1, 6, 6});
      for (int64_t i = 0; i < 6; ++i) {
        for (int64_t j = 0; j < 6; ++j) {
          mask(0, 0, i, j) = (!causal || j <= i) && (window == 0 || std::abs(i - j) < window);
        }
      }
      for (const auto rows : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
        const auto by_flag = scaled_dot_product_attention(q, k, v,
                                                          {.is_causal = causal,
                                                           .sliding_window = window,
                                                           .fully_masked_rows = rows,
                                                           .return_scores = true});
        const auto by_mask = scaled_dot_product_attention(
            q, k, v, {.mask = mask, .fully_masked_rows = rows, .return_scores = true});
        EXPECT_TRUE(all_close(by_flag.output, by_mask.output, 0.0, 0.0));
        EXPECT_TRUE(all_close(*by_flag.scores, *by_mask.scores, 0.0, 0.0));
      }
    }
  }
}

TEST(Sdpa, CausalIsTopLeftAlignedWhenQueryIsLonger) {
  const Tensor q = random_normal({1, 5, 1, 2}, 14);
  const Tensor k = random_normal({1, 3, 1, 2}, 15);
  const Tensor v = random_normal({1, 3, 1, 2}, 16);
  const auto result = scaled_dot_product_attention(
      q, k, v,
      {.is_causal = true, .fully_masked_rows = FullyMaskedRows::kZero, .return_scores = true});
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      if (j > i)
        EXPECT_EQ((*result.scores)(0, 0, i, j), 0.0f);
      else
        EXPECT_GT((*result.scores)(0, 0, i, j), 0.0f);
    }
  }
}

TEST(Sdpa, DropoutKeepsByCounterAndRescales) {
  const Tensor q = random_normal({2, 3, 2, 4}, 17);
  const Tensor k = random_normal({2, 5, 2, 4}, 18);
  const Tensor v = random_normal({2, 5, 2, 3}, 19);
  const double rate = 0.4;
  const SdpaOptions base{
      .scale = 0.5, .fully_masked_rows = FullyMaskedRows::kZero, .return_scores = true};
  SdpaOptions dropped = base;
  dropped.dropout_rate = rate;
  dropped.dropout_key = 1234;
  const auto clean = scaled_dot_product_attention(q, k, v, base);
  const auto noisy = scaled_dot_product_attention(q, k, v, dropped);
  // The returned scores are the probabilities before dropout.
  EXPECT_TRUE(all_close(*noisy.scores, *clean.scores, 0.0, 0.0));
  // The output uses the dropped-out probabilities.
  Tensor expected({2, 3, 2, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t h = 0; h < 3; ++h) {
          double acc = 0;
          for (int64_t j = 0; j < 5; ++j) {
            const auto index = static_cast<uint64_t>(((b * 2 + n) * 3 + i) * 5 + j);
            if (dropout_keeps(1234, index, rate)) {
              acc += (*clean.scores)(b, n, i, j) / (1.0 - rate) * v(b, j, n, h);
            }
          }
          expected(b, i, n, h) = static_cast<float>(acc);
        }
  EXPECT_TRUE(all_close(noisy.output, expected, 1e-5, 1e-5));
  EXPECT_FALSE(all_close(noisy.output, clean.output, 1e-3, 0.0));
  // Same key, same result.
  EXPECT_TRUE(
      all_close(scaled_dot_product_attention(q, k, v, dropped).output, noisy.output, 0.0, 0.0));
}

TEST(Sdpa, StridedViewsGiveTheSameResult) {
  // Key given as a (B, K, S, H) tensor viewed as (B, S, K, H).
  const Tensor q = random_normal({2, 4, 2, 3}, 20);
  const Tensor k_bksh = random_normal({2, 2, 5, 3}, 21);
  const Tensor v = random_normal({2, 5, 2, 3}, 22);
  const Tensor k_view = k_bksh.transpose(1, 2);
  const auto strided = scaled_dot_product_attention(q, k_view, v, {.scale = 0.3});
  const auto dense = scaled_dot_product_attention(q, k_view.contiguous(), v, {.scale = 0.3});
  EXPECT_TRUE(all_close(strided.output, dense.output, 0.0, 0.0));
}

TEST(Sdpa, RejectsMasksThatDoNotBroadcast) {
  const Tensor q = random_normal({2, 4, 2, 3}, 23);
  const Tensor k = random_normal({2, 5, 2, 3}, 24);
  EXPECT_EQ(testing::value_error_message([&] {
              (void)scaled_dot_product_attention(q, k, k, {.mask = Mask({2, 1, 4, 4})});
            }),
            "scaled_dot_product_attention: `mask` does not broadcast to the attention "
            "probabilities. Expected a rank-4 mask whose axes are 1 or (2, 2, 4, 5) "
            "(B, N, T, S). Received: mask.shape=(2, 1, 4, 4).");
  EXPECT_EQ(testing::value_error_message([&] {
              (void)scaled_dot_product_attention(q, random_normal({2, 5, 3, 3}, 25),
                                                 random_normal({2, 5, 3, 3}, 26));
            }),
            "scaled_dot_product_attention: the query heads must be a multiple of the "
            "key/value heads. Expected N % K == 0 with K > 0. Received: N=2, K=3.");
}

}  // namespace
}  // namespace kattn
