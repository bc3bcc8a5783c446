// The fused attention kernels (kernels/flash/) against the reference kernel, on every
// instruction set this CPU runs: tile edges, head dims that are not multiples of 8, T != S, every
// grouped-query ratio, every mask kind, both fully-masked-row semantics, dropout, scores, thread
// counts, and inputs read through views into NaN-filled memory so that any read outside them
// poisons the result.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kattn/core/context.hpp"
#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/sdpa_flash.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using kernels::Isa;
using kernels::ScopedIsa;
using ops::FullyMaskedRows;
using ops::scaled_dot_product_attention;
using ops::SdpaOptions;
using testing::all_close;
using testing::fused_isas;
using testing::in_poisoned_memory;
using testing::random_mask;
using testing::random_normal;

constexpr int64_t kBr = kernels::SdpaFlashTiles::kQueryBlock;
constexpr int64_t kBc = kernels::SdpaFlashTiles::kKeyTile;
constexpr int64_t kChunk = kernels::SdpaDecodeTiles::kKeyChunk;
constexpr int64_t kDecodeRows = kernels::SdpaDecodeTiles::kMaxQueryLen;

enum class MaskKind { kNone, kKeyPadding, kQuery, kPerHead, kShared, kFullyMaskedRows };

struct Case {
  int64_t batch = 1, query_len = 1, key_len = 1, heads = 1, kv_heads = 1, head_dim = 8,
          value_dim = 8;
  MaskKind mask = MaskKind::kNone;
  bool causal = false;
  int64_t window = 0;
  FullyMaskedRows fully = FullyMaskedRows::kUniform;
  double dropout = 0.0;
  bool scores = false;

  std::string name() const {
    std::string text;
    for (int64_t size : {batch, query_len, key_len, heads, kv_heads, head_dim, value_dim}) {
      text += std::to_string(size);
      text += 'x';
    }
    text += " mask ";
    text += std::to_string(static_cast<int>(mask));
    if (causal) text += " causal";
    text += " window ";
    text += std::to_string(window);
    if (fully == FullyMaskedRows::kZero) text += " zero";
    if (dropout > 0) text += " dropout";
    if (scores) text += " scores";
    return text;
  }
};

std::optional<Mask> make_mask(const Case& c, uint64_t seed) {
  const int64_t B = c.batch, N = c.heads, T = c.query_len, S = c.key_len;
  switch (c.mask) {
    case MaskKind::kNone:
      return std::nullopt;
    case MaskKind::kKeyPadding: {
      // Each batch row keeps a prefix of the keys, as Embedding(mask_zero=True) would.
      Mask mask({B, 1, 1, S});
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < S; ++j) mask(b, 0, 0, j) = j < S - b * (S / 3);
      return mask;
    }
    case MaskKind::kQuery:
      return random_mask({B, 1, T, 1}, seed, 0.6);
    case MaskKind::kPerHead:
      return random_mask({B, N, T, S}, seed, 0.7);
    case MaskKind::kShared:
      return random_mask({1, 1, T, S}, seed, 0.5);
    case MaskKind::kFullyMaskedRows: {
      Mask mask = random_mask({B, 1, T, S}, seed, 0.8);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < T; i += 3)
          for (int64_t j = 0; j < S; ++j) mask(b, 0, i, j) = false;
      return mask;
    }
  }
  return std::nullopt;
}

struct Problem {
  Tensor query, key, value;
  SdpaOptions options;
};

Problem make_problem(const Case& c, uint64_t seed) {
  Problem p{
      in_poisoned_memory(random_normal({c.batch, c.query_len, c.heads, c.head_dim}, seed)),
      in_poisoned_memory(random_normal({c.batch, c.key_len, c.kv_heads, c.head_dim}, seed + 1)),
      in_poisoned_memory(random_normal({c.batch, c.key_len, c.kv_heads, c.value_dim}, seed + 2)),
      {}};
  p.options.scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  p.options.mask = make_mask(c, seed + 3);
  p.options.is_causal = c.causal;
  p.options.sliding_window = c.window;
  p.options.fully_masked_rows = c.fully;
  p.options.dropout_rate = c.dropout;
  p.options.dropout_key = seed * 7919;
  p.options.return_scores = c.scores;
  return p;
}

ops::SdpaResult<float> run(const Problem& p, Isa isa, int64_t threads = 1) {
  const ScopedIsa scoped(isa);
  SdpaOptions options = p.options;
  options.num_threads = threads;
  return scaled_dot_product_attention(p.query, p.key, p.value, options);
}

void expect_matches_reference(const Case& c, uint64_t seed) {
  SCOPED_TRACE(c.name());
  const Problem problem = make_problem(c, seed);
  const ops::SdpaResult<float> expected = run(problem, Isa::kReference);
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const ops::SdpaResult<float> fused = run(problem, isa, 2);
    EXPECT_TRUE(all_close(fused.output, expected.output, 2e-6, 2e-5));
    ASSERT_EQ(fused.scores.has_value(), c.scores);
    if (c.scores) {
      EXPECT_TRUE(all_close(*fused.scores, *expected.scores, 1e-7, 2e-5));
    }
  }
}

TEST(SdpaFused, QueryAndKeyLengthsAcrossTileEdges) {
  uint64_t seed = 100;
  for (int64_t T : {int64_t{1}, kBr - 1, kBr, kBr + 1, 2 * kBr + 3}) {
    for (int64_t S : {int64_t{1}, int64_t{7}, kBc - 1, kBc, kBc + 1, 2 * kBc + 5}) {
      expect_matches_reference({.query_len = T,
                                .key_len = S,
                                .heads = 2,
                                .kv_heads = 2,
                                .head_dim = 16,
                                .value_dim = 16},
                               ++seed);
    }
  }
}

TEST(SdpaFused, HeadDimsThatAreNotMultiplesOfEight) {
  uint64_t seed = 200;
  for (int64_t H : {1, 3, 8, 13, 64, 67}) {
    for (int64_t Hv : {1, 7, 16, 33, 64}) {
      expect_matches_reference({.batch = 2,
                                .query_len = 9,
                                .key_len = 20,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = H,
                                .value_dim = Hv},
                               ++seed);
    }
  }
}

TEST(SdpaFused, EveryGroupedQueryRatio) {
  uint64_t seed = 300;
  for (int64_t K : {1, 2, 3, 6}) {
    for (bool scores : {false, true}) {
      expect_matches_reference({.batch = 2,
                                .query_len = 50,
                                .key_len = 131,
                                .heads = 6,
                                .kv_heads = K,
                                .head_dim = 12,
                                .value_dim = 16,
                                .scores = scores},
                               ++seed);
    }
  }
}

TEST(SdpaFused, EveryMaskKindWithAndWithoutScores) {
  uint64_t seed = 400;
  for (MaskKind mask : {MaskKind::kNone, MaskKind::kKeyPadding, MaskKind::kQuery,
                        MaskKind::kPerHead, MaskKind::kShared, MaskKind::kFullyMaskedRows}) {
    for (bool scores : {false, true}) {
      expect_matches_reference({.batch = 3,
                                .query_len = kBr + 5,
                                .key_len = kBc + 9,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = 8,
                                .value_dim = 8,
                                .mask = mask,
                                .scores = scores},
                               ++seed);
    }
  }
}

TEST(SdpaFused, CausalAndSlidingWindowSkipWholeTiles) {
  uint64_t seed = 500;
  for (int64_t T : {int64_t{1}, kBr + 1, 3 * kBr + 2}) {
    for (int64_t S : {int64_t{5}, kBc + 3, 3 * kBc}) {
      for (int64_t window : {0, 1, 4, 60}) {
        for (bool causal : {false, true}) {
          if (!causal && window == 0) continue;
          expect_matches_reference({.query_len = T,
                                    .key_len = S,
                                    .heads = 1,
                                    .kv_heads = 1,
                                    .head_dim = 8,
                                    .value_dim = 16,
                                    .mask = MaskKind::kKeyPadding,
                                    .causal = causal,
                                    .window = window,
                                    .scores = window == 4},
                                   ++seed);
        }
      }
    }
  }
}

TEST(SdpaFused, FullyMaskedRowsFollowBothSemantics) {
  uint64_t seed = 600;
  for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
    for (bool scores : {false, true}) {
      for (double dropout : {0.0, 0.3}) {
        expect_matches_reference({.batch = 2,
                                  .query_len = 20,
                                  .key_len = 30,
                                  .heads = 2,
                                  .kv_heads = 2,
                                  .head_dim = 5,
                                  .value_dim = 6,
                                  .mask = MaskKind::kFullyMaskedRows,
                                  .fully = fully,
                                  .dropout = dropout,
                                  .scores = scores},
                                 ++seed);
      }
    }
    // A window no query reaches: every row of the block is fully masked.
    expect_matches_reference({.query_len = 12,
                              .key_len = 3,
                              .head_dim = 4,
                              .value_dim = 4,
                              .window = 2,
                              .fully = fully,
                              .scores = true},
                             ++seed);
  }
}

TEST(SdpaFused, DropoutDropsWhatTheReferenceDrops) {
  uint64_t seed = 700;
  for (bool scores : {false, true}) {
    expect_matches_reference({.batch = 2,
                              .query_len = kBr + 2,
                              .key_len = kBc + 2,
                              .heads = 3,
                              .kv_heads = 1,
                              .head_dim = 8,
                              .value_dim = 16,
                              .mask = MaskKind::kKeyPadding,
                              .causal = true,
                              .dropout = 0.4,
                              .scores = scores},
                             ++seed);
  }
}

TEST(SdpaFused, SameResultForEveryThreadCount) {
  const Case c{.batch = 2,
               .query_len = 3 * kBr + 7,
               .key_len = 2 * kBc + 1,
               .heads = 3,
               .kv_heads = 1,
               .head_dim = 16,
               .value_dim = 16,
               .mask = MaskKind::kKeyPadding,
               .causal = true,
               .dropout = 0.1,
               .scores = true};
  const Problem problem = make_problem(c, 800);
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const ops::SdpaResult<float> one = run(problem, isa, 1);
    for (int64_t threads : {2, 3, 8}) {
      const ops::SdpaResult<float> many = run(problem, isa, threads);
      EXPECT_TRUE(all_close(many.output, one.output, 0.0, 0.0)) << threads << " threads";
      EXPECT_TRUE(all_close(*many.scores, *one.scores, 0.0, 0.0)) << threads << " threads";
    }
  }
}

TEST(SdpaFused, DecodeSplitsKeysIntoChunks) {
  // Few query rows (the decode kernel, unless scores are asked for) against keys across chunk
  // edges, with every mask kind, causal, sliding windows, grouped heads and dropout.
  uint64_t seed = 1000;
  for (int64_t T : {int64_t{1}, int64_t{2}, kDecodeRows}) {
    for (int64_t S : {int64_t{1}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 5}) {
      expect_matches_reference({.batch = 2,
                                .query_len = T,
                                .key_len = S,
                                .heads = 4,
                                .kv_heads = 2,
                                .head_dim = 13,
                                .value_dim = 19},
                               ++seed);
    }
  }
  for (MaskKind mask : {MaskKind::kKeyPadding, MaskKind::kQuery, MaskKind::kPerHead,
                        MaskKind::kShared, MaskKind::kFullyMaskedRows}) {
    for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
      expect_matches_reference({.batch = 2,
                                .query_len = 3,
                                .key_len = 2 * kChunk + 3,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = 64,
                                .value_dim = 64,
                                .mask = mask,
                                .fully = fully,
                                .dropout = 0.2},
                               ++seed);
    }
  }
  for (int64_t window : {0, 1, 5}) {
    expect_matches_reference({.query_len = kDecodeRows,
                              .key_len = kChunk + 9,
                              .heads = 3,
                              .kv_heads = 3,
                              .head_dim = 8,
                              .value_dim = 8,
                              .causal = true,
                              .window = window},
                             ++seed);
  }
  // Few chunks: the key/value heads are split into groups, evenly or not, grouped query heads
  // inside them; head dims through every path of the dot product.
  for (int64_t kv_heads : {int64_t{1}, int64_t{6}, int64_t{7}}) {
    for (int64_t head_dim : {int64_t{13}, int64_t{40}, int64_t{128}}) {
      expect_matches_reference({.query_len = 1,
                                .key_len = 4 * kChunk - 3,
                                .heads = 2 * kv_heads,
                                .kv_heads = kv_heads,
                                .head_dim = head_dim,
                                .value_dim = 24},
                               ++seed);
    }
  }
  const Case one_head{.query_len = 1, .key_len = 5 * kChunk, .head_dim = 128, .value_dim = 128};
  const Problem problem = make_problem(one_head, ++seed);
  for (Isa isa : fused_isas()) {
    const ops::SdpaResult<float> single = run(problem, isa, 1);
    EXPECT_TRUE(all_close(run(problem, isa, 2).output, single.output, 0.0, 0.0));
    EXPECT_TRUE(all_close(run(problem, isa, 5).output, single.output, 0.0, 0.0));
  }
}

TEST(SdpaFused, ThreadCountComesFromTheCallThenTheScopeThenTheProcess) {
  EXPECT_GE(num_threads(), 1);
  {
    const ScopedNumThreads scope(3);
    EXPECT_EQ(num_threads(), 3);
    {
      const ScopedNumThreads inner(0);
      EXPECT_EQ(num_threads(), hardware_threads());
    }
    EXPECT_EQ(num_threads(), 3);
  }
  EXPECT_THROW(ScopedNumThreads(-1), ValueError);
  EXPECT_THROW(set_num_threads(-2), ValueError);
  const Tensor x = random_normal({1, 2, 1, 4}, 1);
  EXPECT_THROW(scaled_dot_product_attention(x, x, x, {.num_threads = -1}), ValueError);
}

TEST(SdpaFused, LargeProblemMatchesTheReference) {
  // A realistic head: d = 64, several tiles each way, causal, the in-place value path.
  expect_matches_reference({.batch = 1,
                            .query_len = 300,
                            .key_len = 300,
                            .heads = 2,
                            .kv_heads = 2,
                            .head_dim = 64,
                            .value_dim = 64,
                            .causal = true},
                           900);
  expect_matches_reference({.batch = 1,
                            .query_len = 200,
                            .key_len = 450,
                            .heads = 2,
                            .kv_heads = 1,
                            .head_dim = 64,
                            .value_dim = 64,
                            .mask = MaskKind::kKeyPadding},
                           901);
}

TEST(SdpaFused, EmptyAxesGiveEmptyOrZeroOutputs) {
  // No queries, no keys or no batch rows, on the decode (T <= 4) and tiled paths: nothing to
  // divide the work by, and a query with no keys at all is a fully masked row.
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const ScopedIsa scoped(isa);
    for (const Shape& sizes : {Shape{1, 0, 3}, Shape{1, 2, 0}, Shape{1, 60, 0}, Shape{0, 2, 3}}) {
      const int64_t B = sizes[0], T = sizes[1], S = sizes[2];
      const Tensor q = random_normal({B, T, 2, 4}, 1), k = random_normal({B, S, 2, 4}, 2),
                   v = random_normal({B, S, 2, 4}, 3);
      const ops::SdpaResult<float> out =
          scaled_dot_product_attention(q, k, v, {.fully_masked_rows = FullyMaskedRows::kZero});
      ASSERT_EQ(out.output.shape(), (Shape{B, T, 2, 4}));
      for (float x : out.output.to_vector()) EXPECT_EQ(x, 0.0f);
    }
  }
}

}  // namespace
}  // namespace kattn
