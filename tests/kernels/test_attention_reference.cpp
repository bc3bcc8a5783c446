// The reference kernels of Attention / AdditiveAttention: the float layer against the double
// instantiation, the score-mask rules, the float32 masking arithmetic.
#include <gtest/gtest.h>

#include <cmath>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn {
namespace {

namespace dense = kernels::reference::dense;
using testing::random_mask;
using testing::random_tensor;

struct Problem {
  Tensor query;
  Tensor value;
  Tensor key;
  Mask query_mask;
  Mask value_mask;
  dense::Dims dims;
};

Problem make_problem(uint32_t seed) {
  Problem p;
  p.dims = {.batch = 3, .tq = 5, .tv = 7, .dim = 6, .value_dim = 4};
  p.query = random_tensor({3, 5, 6}, seed, 2.0f);
  p.value = random_tensor({3, 7, 4}, seed + 1, 2.0f);
  p.key = random_tensor({3, 7, 6}, seed + 2, 2.0f);
  p.query_mask = random_mask({3, 5}, seed + 3);
  p.value_mask = random_mask({3, 7}, seed + 4);
  // Leave one batch element fully masked: its rows take the float32 rounding path.
  for (int64_t j = 0; j < 7; ++j) p.value_mask(2, j) = false;
  return p;
}

// The same computation as `layer`, in double, from the reference kernels.
template <typename ScoreFn>
std::pair<TensorF64, TensorF64> reference_f64(const Problem& p, bool causal, ScoreFn scores_fn) {
  const TensorF64 query = p.query.cast<double>();
  const TensorF64 key = p.key.cast<double>();
  const TensorF64 value = p.value.cast<double>();
  TensorF64 scores({p.dims.batch, p.dims.tq, p.dims.tv});
  TensorF64 output({p.dims.batch, p.dims.tq, p.dims.value_dim});
  scores_fn(query.data(), key.data(), scores.data());
  dense::ApplyScoresArgs args;
  args.query_mask = p.query_mask.data();
  args.value_mask = p.value_mask.data();
  args.use_causal_mask = causal;
  dense::apply_scores<double>(p.dims, args, value.data(), scores.data(), output.data());
  return {output, scores};
}

void expect_close(const Tensor& actual, const TensorF64& expected, double atol) {
  const std::vector<float> a = actual.to_vector();
  const std::vector<double> e = expected.to_vector();
  ASSERT_EQ(a.size(), e.size());
  for (size_t n = 0; n < a.size(); ++n) {
    EXPECT_NEAR(static_cast<double>(a[n]), e[n], atol + 1e-5 * std::fabs(e[n])) << n;
  }
}

DenseAttentionCallArgs masked_call(const Problem& p, bool causal) {
  DenseAttentionCallArgs args;
  args.query_mask = p.query_mask;
  args.value_mask = p.value_mask;
  args.use_causal_mask = causal;
  args.return_attention_scores = true;
  return args;
}

TEST(DenseAttentionReference, FloatLayerAgreesWithDoubleReference) {
  for (const bool causal : {false, true}) {
    const Problem p = make_problem(causal ? 60 : 70);
    {
      Attention layer({.use_scale = true, .score_mode = "dot"});
      layer.build({p.query.shape(), p.value.shape(), p.key.shape()});
      layer.set_weight("scale", Tensor::full({}, 0.7f));
      const AttentionOutput out = layer.call(p.query, p.value, p.key, masked_call(p, causal));
      const double scale = 0.7f;
      const auto [output, scores] = reference_f64(p, causal, [&](auto q, auto k, auto s) {
        dense::dot_scores<double>(p.dims, q, k, &scale, s);
      });
      expect_close(out.output, output, 1e-5);
      expect_close(*out.attention_scores, scores, 1e-6);
    }
    {
      Attention layer({.use_scale = true, .score_mode = "concat"});
      layer.build({p.query.shape(), p.value.shape(), p.key.shape()});
      layer.set_weight("scale", Tensor::full({}, 0.7f));
      layer.set_weight("concat_score_weight", Tensor::full({}, 1.3f));
      const AttentionOutput out = layer.call(p.query, p.value, p.key, masked_call(p, causal));
      const double scale = 0.7f;
      const double weight = 1.3f;
      const auto [output, scores] = reference_f64(p, causal, [&](auto q, auto k, auto s) {
        dense::concat_scores<double>(p.dims, q, k, &scale, &weight, s);
      });
      expect_close(out.output, output, 1e-5);
      expect_close(*out.attention_scores, scores, 1e-6);
    }
    {
      AdditiveAttention layer;
      layer.build({p.query.shape(), p.value.shape(), p.key.shape()});
      const Tensor scale = random_tensor({6}, 80);
      layer.set_weight("scale", scale);
      const AttentionOutput out = layer.call(p.query, p.value, p.key, masked_call(p, causal));
      const TensorF64 scale64 = scale.cast<double>();
      const auto [output, scores] = reference_f64(p, causal, [&](auto q, auto k, auto s) {
        dense::additive_scores<double>(p.dims, q, k, scale64.data(), s);
      });
      expect_close(out.output, output, 1e-5);
      expect_close(*out.attention_scores, scores, 1e-6);
    }
  }
}

TEST(DenseAttentionReference, DotScoresAreScaledProducts) {
  // test_attention_calculate_scores_with_scale: matmul(query, key^T) * scale.
  const dense::Dims dims{.batch = 2, .tq = 3, .tv = 4, .dim = 4, .value_dim = 1};
  const TensorF64 query = random_tensor({2, 3, 4}, 81).cast<double>();
  const TensorF64 key = random_tensor({2, 4, 4}, 82).cast<double>();
  const double scale = 1.7;
  TensorF64 scores({2, 3, 4});
  dense::dot_scores<double>(dims, query.data(), key.data(), &scale, scores.data());
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 4; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < 4; ++d) dot += query(b, i, d) * key(b, j, d);
        EXPECT_DOUBLE_EQ(scores(b, i, j), dot * scale);
      }
    }
  }
}

// Which scores mask_scores masks, for scores all 0.
Mask masked_positions(const dense::Dims& dims, const bool* value_mask, bool causal) {
  TensorF64 scores({dims.batch, dims.tq, dims.tv});
  dense::mask_scores<double>(dims, value_mask, causal, scores.data());
  Mask masked({dims.batch, dims.tq, dims.tv});
  for (int64_t n = 0; n < scores.size(); ++n) masked.data()[n] = scores.data()[n] == -1.0e9;
  return masked;
}

TEST(DenseAttentionReference, ScoreMaskRules) {
  const dense::Dims dims{.batch = 2, .tq = 3, .tv = 4, .dim = 1, .value_dim = 1};
  // _calculate_score_mask without causal and value mask: nothing is masked.
  for (bool m : masked_positions(dims, nullptr, false).to_vector()) EXPECT_FALSE(m);
  // Causal alone: the lower triangle (j <= i) of (Tq, Tv) for every batch element.
  const Mask causal = masked_positions(dims, nullptr, true);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(causal(b, i, j), j > i);
    }
  }
  // Causal AND value_mask[:, None, :].
  const bool value_mask[] = {true, false, true, false, false, true, true, true};
  const Mask both = masked_positions(dims, value_mask, true);
  const Mask value_only = masked_positions(dims, value_mask, false);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_EQ(both(b, i, j), j > i || !value_mask[b * 4 + j]);
        EXPECT_EQ(value_only(b, i, j), !value_mask[b * 4 + j]);
      }
    }
  }
}

TEST(DenseAttentionReference, MaskingRoundsToFloat32InBothPrecisions) {
  // Keras computes score - 1e9 in float32, where the spacing near 1e9 is 64.
  const dense::Dims dims{.batch = 1, .tq = 1, .tv = 4, .dim = 1, .value_dim = 1};
  const bool none[] = {false, false, false, false};
  double scores64[] = {0.5, -31.0, 40.0, -100.0};
  float scores32[] = {0.5f, -31.0f, 40.0f, -100.0f};
  dense::mask_scores<double>(dims, none, false, scores64);
  dense::mask_scores<float>(dims, none, false, scores32);
  const double expected[] = {-1.0e9, -1.0e9, -1.0e9 + 64, -1.0e9 - 128};
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(scores64[n], expected[n]) << n;
    EXPECT_EQ(static_cast<double>(scores32[n]), expected[n]) << n;
  }
  // The fully masked row: uniform over the entries that round alike, not over all.
  dense::softmax_rows<double>(1, 4, scores64);
  EXPECT_NEAR(scores64[2], 1.0, 1e-12);
  EXPECT_LT(scores64[0], 1e-27);
}

TEST(DenseAttentionReference, SoftmaxIsStableForLargeScores) {
  double row[] = {1000.0, 999.0, -1000.0};
  dense::softmax_rows<double>(1, 3, row);
  EXPECT_NEAR(row[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(row[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_EQ(row[2], 0.0);
}

TEST(DenseAttentionReference, DropoutDependsOnKeyAndIndexOnly) {
  // The same key gives the same decisions whatever the precision; kept values are divided by
  // 1 - rate.
  std::vector<float> f(1000, 0.5f);
  std::vector<double> d(1000, 0.5);
  dense::dropout<float>(1000, 42, 0.25, f.data());
  dense::dropout<double>(1000, 42, 0.25, d.data());
  int64_t kept = 0;
  for (size_t n = 0; n < f.size(); ++n) {
    EXPECT_EQ(f[n] == 0.0f, d[n] == 0.0) << n;
    if (d[n] != 0.0) {
      ++kept;
      EXPECT_EQ(d[n], 0.5 / 0.75);
      EXPECT_EQ(f[n], 0.5f / 0.75f);
    }
  }
  EXPECT_GT(kept, 650);
  EXPECT_LT(kept, 850);
}

}  // namespace
}  // namespace kattn
