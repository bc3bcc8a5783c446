// SdpaOptions::query_mask: rows of masked queries, given as (B, T) instead of a (B, N, T, S)
// mask, give the same probabilities, output and gradients under both fully-masked-row rules,
// on the fused kernels (float) and the reference (double).
#include <gtest/gtest.h>

#include "kattn/ops/sdpa.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::FullyMaskedRows;
using ops::SdpaOptions;
using testing::all_close;
using testing::random_mask;
using testing::random_normal;

template <typename Real>
void expect_same_as_a_full_mask(FullyMaskedRows rule, double tolerance) {
  const int64_t B = 2, T = 9, S = 7, N = 4, K = 2, H = 8;
  const auto q = random_normal<Real>({B, T, N, H}, 1);
  const auto k = random_normal<Real>({B, S, K, H}, 2);
  const auto v = random_normal<Real>({B, S, K, H}, 3);
  const auto d_out = random_normal<Real>({B, T, N, H}, 4);
  const Mask query_mask = random_mask({B, T}, 5, 0.6);
  Mask keys = random_mask({B, 1, 1, S}, 6, 0.7);
  for (int64_t j = 0; j < S; ++j) keys(1, 0, 0, j) = false;  // batch 1: every key padded

  SdpaOptions rows;
  rows.scale = 0.3;
  rows.fully_masked_rows = rule;
  rows.return_scores = true;
  rows.return_logsumexp = true;
  rows.is_causal = true;
  SdpaOptions full = rows;
  rows.mask = keys;
  rows.query_mask = query_mask;
  Mask combined({B, 1, T, S});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < S; ++j) combined(b, 0, i, j) = query_mask(b, i) && keys(b, 0, 0, j);
  full.mask = combined;

  const auto by_rows = ops::scaled_dot_product_attention(q, k, v, rows);
  const auto by_mask = ops::scaled_dot_product_attention(q, k, v, full);
  EXPECT_TRUE(all_close(by_rows.output, by_mask.output, tolerance, tolerance));
  EXPECT_TRUE(all_close(*by_rows.scores, *by_mask.scores, tolerance, tolerance));
  const auto g_rows = ops::scaled_dot_product_attention_backward(q, k, v, by_rows, d_out, rows);
  const auto g_mask = ops::scaled_dot_product_attention_backward(q, k, v, by_mask, d_out, full);
  EXPECT_TRUE(all_close(g_rows.query, g_mask.query, tolerance, tolerance));
  EXPECT_TRUE(all_close(g_rows.key, g_mask.key, tolerance, tolerance));
  EXPECT_TRUE(all_close(g_rows.value, g_mask.value, tolerance, tolerance));
}

TEST(SdpaQueryMask, EqualsTheFullMaskUnderBothRules) {
  for (const FullyMaskedRows rule : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
    expect_same_as_a_full_mask<float>(rule, 1e-5);
    expect_same_as_a_full_mask<double>(rule, 1e-12);
  }
}

TEST(SdpaQueryMask, MustMatchTheQueries) {
  const auto q = random_normal<float>({2, 3, 1, 4}, 1);
  SdpaOptions options;
  options.query_mask = Mask({2, 4});
  EXPECT_THROW(ops::scaled_dot_product_attention(q, q, q, options), ValueError);
}

}  // namespace
}  // namespace kattn
