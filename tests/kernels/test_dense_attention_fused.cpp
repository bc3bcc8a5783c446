// Attention and AdditiveAttention on the fused kernel (kernels/flash/, FlashScoring) against the
// reference dense kernels, on every instruction set this CPU runs: every score function with and
// without its weights, query and key lengths across tile edges, feature sizes that are not
// multiples of 8, every mask, causal rows whose every key is masked (Keras's `score - 1e9`
// rows), dropout with the scores it returns, leading batch axes, and tanh arguments over the
// whole range where tanh saturates.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_flash.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using kernels::Isa;
using kernels::ScopedIsa;
using testing::all_close;
using testing::fused_isas;
using testing::kScorers;
using testing::random_mask;
using testing::random_tensor;
using testing::Scorer;

constexpr int64_t kBr = kernels::SdpaFlashTiles::kQueryBlock;
constexpr int64_t kBc = kernels::SdpaFlashTiles::kKeyTile;

struct Case {
  Scorer scorer = Scorer::kDot;
  Shape batch = {2};
  int64_t tq = 5, tv = 7, dim = 8, value_dim = 8;
  bool query_mask = false, value_mask = false, causal = false;
  double dropout = 0.0;
  bool scores = false;
  float amplitude = 1.0f;  // inputs uniform in [-amplitude, amplitude)

  std::string name() const {
    std::string text = "scorer " + std::to_string(static_cast<int>(scorer)) + " batch " +
                       shape_to_string(batch) + " " + std::to_string(tq) + "x" +
                       std::to_string(tv) + "x" + std::to_string(dim) + "x" +
                       std::to_string(value_dim);
    if (query_mask) text += " query_mask";
    if (value_mask) text += " value_mask";
    if (causal) text += " causal";
    if (dropout > 0) text += " dropout";
    if (scores) text += " scores";
    return text;
  }
};

std::unique_ptr<DenseAttention> make_layer(const Case& c, uint32_t seed) {
  const bool scaled = c.scorer == Scorer::kDotScaled || c.scorer == Scorer::kConcatScaled ||
                      c.scorer == Scorer::kAdditive;
  std::unique_ptr<DenseAttention> layer;
  if (c.scorer == Scorer::kAdditive || c.scorer == Scorer::kAdditiveUnscaled) {
    AdditiveAttention::Args args;
    args.use_scale = scaled;
    args.dropout = c.dropout;
    args.seed = seed;
    layer = std::make_unique<AdditiveAttention>(args);
  } else {
    Attention::Args args;
    args.use_scale = scaled;
    args.score_mode =
        c.scorer == Scorer::kConcat || c.scorer == Scorer::kConcatScaled ? "concat" : "dot";
    args.dropout = c.dropout;
    args.seed = seed;
    layer = std::make_unique<Attention>(args);
  }
  Shape query = c.batch, value = c.batch;
  query.insert(query.end(), {c.tq, c.dim});
  value.insert(value.end(), {c.tv, c.value_dim});
  Shape key = c.batch;
  key.insert(key.end(), {c.tv, c.dim});
  layer->build({query, value, key});
  // Weights away from their initial ones, so that each one's place in the formula counts.
  if (c.scorer == Scorer::kAdditive) layer->set_weight("scale", random_tensor({c.dim}, seed, 2.0f));
  if (c.scorer == Scorer::kDotScaled) layer->set_weight("scale", Tensor::full({}, 0.37f));
  if (c.scorer == Scorer::kConcatScaled) layer->set_weight("scale", Tensor::full({}, 1.7f));
  if (c.scorer == Scorer::kConcat || c.scorer == Scorer::kConcatScaled) {
    layer->set_weight("concat_score_weight", Tensor::full({}, -0.6f));
  }
  return layer;
}

struct Inputs {
  Tensor query, value, key;
  DenseAttentionCallArgs args;
};

Inputs make_inputs(const Case& c, uint32_t seed) {
  Shape query = c.batch, value = c.batch, key = c.batch, rows = c.batch, keys = c.batch;
  query.insert(query.end(), {c.tq, c.dim});
  value.insert(value.end(), {c.tv, c.value_dim});
  key.insert(key.end(), {c.tv, c.dim});
  rows.push_back(c.tq);
  keys.push_back(c.tv);
  Inputs in{random_tensor(query, seed, c.amplitude),
            random_tensor(value, seed + 1),
            random_tensor(key, seed + 2, c.amplitude),
            {}};
  if (c.query_mask) in.args.query_mask = random_mask(rows, seed + 3, 0.6);
  if (c.value_mask) {
    Mask mask = random_mask(keys, seed + 4, 0.7);
    // With the causal mask, the first rows of the first batch entry see only masked keys.
    if (c.causal) {
      for (int64_t j = 0; j < c.tv && j < 3; ++j) mask.data()[j] = false;
    }
    in.args.value_mask = mask;
  }
  in.args.use_causal_mask = c.causal;
  in.args.return_attention_scores = c.scores;
  in.args.training = c.dropout > 0.0;
  return in;
}

AttentionOutput run(const Case& c, uint32_t seed, Isa isa) {
  const ScopedIsa scoped(isa);
  const std::unique_ptr<DenseAttention> layer = make_layer(c, seed);
  const Inputs in = make_inputs(c, seed);
  return layer->call(in.query, in.value, in.key, in.args);
}

void expect_matches_reference(const Case& c, uint32_t seed) {
  SCOPED_TRACE(c.name());
  const AttentionOutput expected = run(c, seed, Isa::kReference);
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const AttentionOutput fused = run(c, seed, isa);
    EXPECT_TRUE(all_close(fused.output, expected.output, 2e-6, 2e-5));
    ASSERT_EQ(fused.attention_scores.has_value(), c.scores);
    if (c.scores) {
      EXPECT_TRUE(all_close(*fused.attention_scores, *expected.attention_scores, 1e-6, 2e-5));
    }
  }
}

TEST(DenseAttentionFused, EveryScorerAcrossTileEdges) {
  uint32_t seed = 10;
  for (Scorer scorer : kScorers) {
    for (int64_t tq : {int64_t{1}, kBr - 1, kBr + 1, 4 * kBr + 3}) {
      for (int64_t tv : {int64_t{1}, int64_t{2}, kBc, kBc + 1}) {
        expect_matches_reference(
            {.scorer = scorer, .tq = tq, .tv = tv, .dim = 16, .value_dim = 16, .scores = tv == 2},
            ++seed);
      }
    }
  }
}

TEST(DenseAttentionFused, FeatureSizesThatAreNotMultiplesOfEight) {
  uint32_t seed = 100;
  for (Scorer scorer : kScorers) {
    for (int64_t dim : {1, 3, 13, 64}) {
      for (int64_t value_dim : {1, 7, 33}) {
        expect_matches_reference(
            {.scorer = scorer, .tq = 9, .tv = 20, .dim = dim, .value_dim = value_dim}, ++seed);
      }
    }
  }
}

TEST(DenseAttentionFused, EveryMaskWithAndWithoutScores) {
  uint32_t seed = 200;
  for (Scorer scorer : kScorers) {
    for (bool query_mask : {false, true}) {
      for (bool value_mask : {false, true}) {
        for (bool causal : {false, true}) {
          for (bool scores : {false, true}) {
            expect_matches_reference({.scorer = scorer,
                                      .batch = {3},
                                      .tq = kBr + 5,
                                      .tv = kBc + 9,
                                      .query_mask = query_mask,
                                      .value_mask = value_mask,
                                      .causal = causal,
                                      .scores = scores},
                                     ++seed);
          }
        }
      }
    }
  }
}

TEST(DenseAttentionFused, RowsWhoseEveryKeyIsMaskedFollowKeras) {
  // Causal with the first keys masked: rows 0..2 of batch entry 0 see only masked keys, whose
  // `score - 1e9` makes them a softmax over every key, those past the diagonal included; large
  // dot products keep that softmax from being uniform (float32's spacing near 1e9 is 64).
  uint32_t seed = 300;
  for (Scorer scorer : kScorers) {
    for (bool scores : {false, true}) {
      Case c{.scorer = scorer,
             .tq = 6,
             .tv = kBc + 40,
             .value_mask = true,
             .causal = true,
             .scores = scores,
             .amplitude = 12.0f};
      expect_matches_reference(c, ++seed);
      const AttentionOutput out = run(c, seed, fused_isas().back());
      if (scores) {
        // Row 0 spreads its weight over keys beyond the diagonal.
        float beyond = 0.0f;
        for (int64_t j = 1; j < c.tv; ++j) beyond += out.attention_scores->data()[j];
        EXPECT_GT(beyond, 0.5f);
      }
    }
  }
}

TEST(DenseAttentionFused, DropoutAndTheScoresItReturns) {
  uint32_t seed = 400;
  for (Scorer scorer : kScorers) {
    for (bool scores : {false, true}) {
      expect_matches_reference({.scorer = scorer,
                                .tq = kBr + 2,
                                .tv = kBc + 3,
                                .value_mask = true,
                                .dropout = 0.3,
                                .scores = scores},
                               ++seed);
    }
  }
}

TEST(DenseAttentionFused, LeadingAxesAreBatchAxes) {
  uint32_t seed = 500;
  for (Scorer scorer : kScorers) {
    expect_matches_reference({.scorer = scorer,
                              .batch = {2, 3},
                              .tq = 4,
                              .tv = 6,
                              .query_mask = true,
                              .value_mask = true,
                              .scores = true},
                             ++seed);
  }
}

TEST(DenseAttentionFused, TanhOverItsWholeRange) {
  // Arguments up to +-24 (+-41 with the concat scale): saturated, steep and near-zero tanh.
  uint32_t seed = 600;
  for (Scorer scorer :
       {Scorer::kConcat, Scorer::kConcatScaled, Scorer::kAdditive, Scorer::kAdditiveUnscaled}) {
    expect_matches_reference({.scorer = scorer,
                              .tq = 17,
                              .tv = 19,
                              .dim = 40,
                              .value_dim = 8,
                              .scores = true,
                              .amplitude = 12.0f},
                             ++seed);
  }
}

}  // namespace
}  // namespace kattn
