// The fused attention backward (kernels/flash/sdpa_flash_backward*) against the reference
// backward, on every instruction set this CPU runs. Each gradient's largest error against a
// double evaluation of the same problem must stay within a small multiple of the float
// reference's own, over tile edges, head dims that are not multiples of 8, T != S, every
// grouped-query ratio, every mask kind, causal and sliding windows, both fully-masked-row
// semantics, dropout and thread counts, with every input (and the saved forward output) read
// through views into NaN-filled memory. Also the log-sum-exp the fused forward saves for it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using kernels::Isa;
using kernels::ScopedIsa;
using ops::FullyMaskedRows;
using ops::scaled_dot_product_attention;
using ops::scaled_dot_product_attention_backward;
using ops::SdpaGradients;
using ops::SdpaOptions;
using ops::SdpaResult;
using testing::all_close;
using testing::fused_isas;
using testing::in_poisoned_memory;
using testing::random_mask;
using testing::random_normal;

constexpr int64_t kBr = kernels::SdpaFlashBackwardTiles::kQueryBlock;
constexpr int64_t kBc = kernels::SdpaFlashBackwardTiles::kKeyBlock;
constexpr int64_t kDecodeRows = kernels::SdpaDecodeTiles::kMaxQueryLen;

// How much larger than the float reference's error against double the fused kernel's may be.
// The fused kernel adds the forward's rounding: every probability exp(logit - logsumexp) carries
// the rounding of a float log-sum-exp (|logsumexp| / 2^24, relative), and D = dO . O that of the
// forward output. Measured at most about 0.6 of this bound over the suite
// (KATTN_TEST_REPORT_ERRORS).
constexpr double kErrorFactor = 5.0;

enum class MaskKind {
  kNone,
  kKeyPadding,       // (B, 1, 1, S)
  kQuery,            // (B, 1, T, 1)
  kPerHead,          // (B, N, T, S)
  kShared,           // (1, 1, T, S)
  kHeadKeys,         // (1, N, 1, S)
  kFullyMaskedRows,  // (B, 1, T, S), every third query row masked out
};

struct Case {
  int64_t batch = 1, query_len = 1, key_len = 1, heads = 1, kv_heads = 1, head_dim = 8,
          value_dim = 8;
  MaskKind mask = MaskKind::kNone;
  bool causal = false;
  int64_t window = 0;
  FullyMaskedRows fully = FullyMaskedRows::kUniform;
  double dropout = 0.0;

  std::string name() const {
    std::string text;
    for (int64_t size : {batch, query_len, key_len, heads, kv_heads, head_dim, value_dim}) {
      text += std::to_string(size);
      text += 'x';
    }
    text += " mask " + std::to_string(static_cast<int>(mask));
    if (causal) text += " causal";
    text += " window " + std::to_string(window);
    if (fully == FullyMaskedRows::kZero) text += " zero";
    if (dropout > 0) text += " dropout";
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
    case MaskKind::kHeadKeys:
      return random_mask({1, N, 1, S}, seed, 0.6);
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
  Tensor query, key, value, d_output;
  SdpaOptions options;
};

Problem make_problem(const Case& c, uint64_t seed) {
  const int64_t B = c.batch, T = c.query_len, S = c.key_len;
  Problem p{in_poisoned_memory(random_normal({B, T, c.heads, c.head_dim}, seed)),
            in_poisoned_memory(random_normal({B, S, c.kv_heads, c.head_dim}, seed + 1)),
            in_poisoned_memory(random_normal({B, S, c.kv_heads, c.value_dim}, seed + 2)),
            in_poisoned_memory(random_normal({B, T, c.heads, c.value_dim}, seed + 3)),
            {}};
  p.options.scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  p.options.mask = make_mask(c, seed + 4);
  p.options.is_causal = c.causal;
  p.options.sliding_window = c.window;
  p.options.fully_masked_rows = c.fully;
  p.options.dropout_rate = c.dropout;
  p.options.dropout_key = seed * 7919;
  return p;
}

// The gradients on `isa`, from a forward call on the same ISA; the backward reads the saved
// output through a view into NaN-filled memory.
SdpaGradients<float> gradients(const Problem& p, Isa isa, int64_t threads = 1,
                               bool save_logsumexp = true) {
  const ScopedIsa scoped(isa);
  SdpaOptions options = p.options;
  options.num_threads = threads;
  options.return_logsumexp = save_logsumexp;
  SdpaResult<float> forward = scaled_dot_product_attention(p.query, p.key, p.value, options);
  forward.output = in_poisoned_memory(forward.output);
  return scaled_dot_product_attention_backward(p.query, p.key, p.value, forward, p.d_output,
                                               options);
}

SdpaGradients<double> exact_gradients(const Problem& p) {
  const TensorF64 q = p.query.cast<double>(), k = p.key.cast<double>(), v = p.value.cast<double>();
  const SdpaResult<double> forward = scaled_dot_product_attention(q, k, v, p.options);
  return scaled_dot_product_attention_backward(q, k, v, forward, p.d_output.cast<double>(),
                                               p.options);
}

// Largest |actual - exact|; infinite when actual holds a NaN.
double max_error(const Tensor& actual, const TensorF64& exact) {
  const std::vector<float> a = actual.to_vector();
  const std::vector<double> e = exact.to_vector();
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(a[i]) - e[i]);
    if (std::isnan(diff)) return std::numeric_limits<double>::infinity();
    worst = std::fmax(worst, diff);
  }
  return worst;
}

double max_abs(const TensorF64& t) {
  double top = 0.0;
  for (double x : t.to_vector()) top = std::fmax(top, std::fabs(x));
  return top;
}

// KATTN_TEST_REPORT_ERRORS=1 prints every ratio, to see how close to kErrorFactor they come.
bool report_errors() {
  const char* text = std::getenv("KATTN_TEST_REPORT_ERRORS");
  return text != nullptr && *text == '1';
}

// `magnitude`: the largest exact gradient of the problem, whose rounding bounds the error where
// the reference happens to be exact (one key: dS = P (dP - D) is 0 for the reference, rounding
// for D = dO . O).
::testing::AssertionResult as_accurate_as_reference(const char* what, const Tensor& fused,
                                                    const Tensor& reference, const TensorF64& exact,
                                                    double magnitude) {
  if (fused.shape() != exact.shape()) {
    return ::testing::AssertionFailure() << what << ": shape " << shape_to_string(fused.shape());
  }
  const double fused_error = max_error(fused, exact);
  const double reference_error = max_error(reference, exact);
  const double floor = 4e-7 * magnitude + 1e-30;
  const double bound = kErrorFactor * reference_error + floor;
  if (report_errors()) {
    std::printf("%s: fused %.3g, reference %.3g, %.2f of the bound\n", what, fused_error,
                reference_error, fused_error / bound);
  }
  if (fused_error <= bound) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << what << ": the fused kernel's largest error against double, " << fused_error
         << ", exceeds " << kErrorFactor << " x the float reference's, " << reference_error;
}

void expect_as_accurate(const SdpaGradients<float>& fused, const SdpaGradients<float>& reference,
                        const SdpaGradients<double>& exact) {
  const double magnitude =
      std::fmax(max_abs(exact.query), std::fmax(max_abs(exact.key), max_abs(exact.value)));
  EXPECT_TRUE(
      as_accurate_as_reference("d_query", fused.query, reference.query, exact.query, magnitude));
  EXPECT_TRUE(as_accurate_as_reference("d_key", fused.key, reference.key, exact.key, magnitude));
  EXPECT_TRUE(
      as_accurate_as_reference("d_value", fused.value, reference.value, exact.value, magnitude));
}

void expect_matches_reference(const Case& c, uint64_t seed) {
  SCOPED_TRACE(c.name());
  const Problem problem = make_problem(c, seed);
  const SdpaGradients<double> exact = exact_gradients(problem);
  const SdpaGradients<float> reference = gradients(problem, Isa::kReference);
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    expect_as_accurate(gradients(problem, isa, 3), reference, exact);
  }
}

TEST(SdpaFlashBackward, QueryAndKeyLengthsAcrossTileEdges) {
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

TEST(SdpaFlashBackward, HeadDimsThatAreNotMultiplesOfEight) {
  uint64_t seed = 200;
  for (int64_t H : {1, 3, 13, 64, 128}) {
    for (int64_t Hv : {1, 3, 13, 64, 128}) {
      expect_matches_reference({.batch = 2,
                                .query_len = 50,
                                .key_len = 100,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = H,
                                .value_dim = Hv},
                               ++seed);
    }
  }
}

TEST(SdpaFlashBackward, EveryGroupedQueryRatio) {
  uint64_t seed = 300;
  for (const auto& [N, K] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 4}, {4, 2}, {4, 1}, {8, 2}}) {
    expect_matches_reference({.batch = 2,
                              .query_len = 60,
                              .key_len = 131,
                              .heads = N,
                              .kv_heads = K,
                              .head_dim = 12,
                              .value_dim = 16},
                             ++seed);
  }
}

TEST(SdpaFlashBackward, EveryMaskKindUnderBothSemantics) {
  uint64_t seed = 400;
  for (MaskKind mask :
       {MaskKind::kNone, MaskKind::kKeyPadding, MaskKind::kQuery, MaskKind::kPerHead,
        MaskKind::kShared, MaskKind::kHeadKeys, MaskKind::kFullyMaskedRows}) {
    for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
      expect_matches_reference({.batch = 3,
                                .query_len = kBr + 5,
                                .key_len = kBc + 9,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = 8,
                                .value_dim = 8,
                                .mask = mask,
                                .fully = fully},
                               ++seed);
    }
  }
}

TEST(SdpaFlashBackward, CausalAndSlidingWindowSkipWholeTiles) {
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
                                    .window = window},
                                   ++seed);
        }
      }
    }
  }
}

TEST(SdpaFlashBackward, FullyMaskedRowsFollowBothSemantics) {
  uint64_t seed = 600;
  for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
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
                                .dropout = dropout},
                               ++seed);
      // Causal with T > S: the rows past the keys attend all of them, the rest fewer.
      expect_matches_reference({.batch = 1,
                                .query_len = kBr + 7,
                                .key_len = 40,
                                .heads = 2,
                                .kv_heads = 1,
                                .head_dim = 9,
                                .value_dim = 7,
                                .mask = MaskKind::kFullyMaskedRows,
                                .causal = true,
                                .fully = fully,
                                .dropout = dropout},
                               ++seed);
    }
    // A window no query reaches past the keys: those rows attend nothing at all.
    expect_matches_reference(
        {.query_len = 12, .key_len = 3, .head_dim = 4, .value_dim = 4, .window = 2, .fully = fully},
        ++seed);
  }
}

TEST(SdpaFlashBackward, DropoutDropsWhatTheForwardDropped) {
  uint64_t seed = 700;
  for (double rate : {0.1, 0.5}) {
    expect_matches_reference({.batch = 2,
                              .query_len = kBr + 2,
                              .key_len = kBc + 2,
                              .heads = 4,
                              .kv_heads = 2,
                              .head_dim = 8,
                              .value_dim = 16,
                              .mask = MaskKind::kKeyPadding,
                              .causal = true,
                              .dropout = rate},
                             ++seed);
  }
}

TEST(SdpaFlashBackward, LargeProblemMatchesTheReference) {
  // A realistic head: d = 64, several blocks each way, several chunks of key blocks.
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

TEST(SdpaFlashBackward, SameResultForEveryThreadCountWithOrWithoutTheSavedLogsumexp) {
  const Case c{.batch = 2,
               .query_len = 3 * kBr + 7,
               .key_len = 5 * kBc + 1,
               .heads = 4,
               .kv_heads = 2,
               .head_dim = 16,
               .value_dim = 24,
               .mask = MaskKind::kFullyMaskedRows,
               .causal = true,
               .dropout = 0.1};
  const Problem problem = make_problem(c, 800);
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const SdpaGradients<float> one = gradients(problem, isa, 1);
    for (int64_t threads : {2, 3, 8}) {
      const SdpaGradients<float> many = gradients(problem, isa, threads);
      EXPECT_TRUE(all_close(many.query, one.query, 0.0, 0.0)) << threads << " threads";
      EXPECT_TRUE(all_close(many.key, one.key, 0.0, 0.0)) << threads << " threads";
      EXPECT_TRUE(all_close(many.value, one.value, 0.0, 0.0)) << threads << " threads";
    }
    // Without a saved log-sum-exp the backward runs the same forward for it.
    const SdpaGradients<float> recomputed = gradients(problem, isa, 3, false);
    EXPECT_TRUE(all_close(recomputed.query, one.query, 0.0, 0.0));
    EXPECT_TRUE(all_close(recomputed.key, one.key, 0.0, 0.0));
    EXPECT_TRUE(all_close(recomputed.value, one.value, 0.0, 0.0));
  }
}

TEST(SdpaFlashBackward, ForwardFromTheReferenceKernel) {
  // The reference stores the log-sum-exp of its substituted logits in fully masked rows; the
  // fused backward finds those rows from the masks and gets the same gradients.
  for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
    const Case c{.batch = 2,
                 .query_len = 30,
                 .key_len = 50,
                 .heads = 2,
                 .kv_heads = 1,
                 .head_dim = 8,
                 .value_dim = 8,
                 .mask = MaskKind::kFullyMaskedRows,
                 .fully = fully};
    Problem problem = make_problem(c, 850);
    problem.options.return_logsumexp = true;
    SdpaResult<float> forward;
    {
      const ScopedIsa scoped(Isa::kReference);
      forward =
          scaled_dot_product_attention(problem.query, problem.key, problem.value, problem.options);
    }
    const SdpaGradients<float> reference = gradients(problem, Isa::kReference);
    const SdpaGradients<double> exact = exact_gradients(problem);
    for (Isa isa : fused_isas()) {
      SCOPED_TRACE(kernels::isa_name(isa));
      const ScopedIsa scoped(isa);
      const SdpaGradients<float> fused = scaled_dot_product_attention_backward(
          problem.query, problem.key, problem.value, forward, problem.d_output, problem.options);
      expect_as_accurate(fused, reference, exact);
    }
  }
}

TEST(SdpaFlashBackward, LogsumexpMatchesTheReferenceAndLeavesTheOutputAlone) {
  // The tiled kernel (with and without scores) and the decode kernel (T <= 4), with every row
  // kind: attending all keys, some, or none.
  uint64_t seed = 1000;
  for (int64_t T : {int64_t{1}, kDecodeRows, kBr + 5}) {
    for (bool scores : {false, true}) {
      for (FullyMaskedRows fully : {FullyMaskedRows::kUniform, FullyMaskedRows::kZero}) {
        const Case c{.batch = 2,
                     .query_len = T,
                     .key_len = 300,
                     .heads = 4,
                     .kv_heads = 2,
                     .head_dim = 16,
                     .value_dim = 8,
                     .mask = MaskKind::kFullyMaskedRows,
                     .causal = T > kDecodeRows,
                     .fully = fully,
                     .dropout = 0.2};
        SCOPED_TRACE(c.name() + (scores ? " scores" : ""));
        Problem problem = make_problem(c, ++seed);
        problem.options.return_scores = scores;
        SdpaOptions with = problem.options;
        with.return_logsumexp = true;
        SdpaResult<float> expected;
        {
          const ScopedIsa scoped(Isa::kReference);
          expected = scaled_dot_product_attention(problem.query, problem.key, problem.value, with);
        }
        ASSERT_TRUE(expected.logsumexp.has_value());
        for (Isa isa : fused_isas()) {
          SCOPED_TRACE(kernels::isa_name(isa));
          const ScopedIsa scoped(isa);
          const SdpaResult<float> without = scaled_dot_product_attention(
              problem.query, problem.key, problem.value, problem.options);
          const SdpaResult<float> fused =
              scaled_dot_product_attention(problem.query, problem.key, problem.value, with);
          EXPECT_FALSE(without.logsumexp.has_value());
          ASSERT_TRUE(fused.logsumexp.has_value());
          EXPECT_TRUE(all_close(fused.output, without.output, 0.0, 0.0));
          if (scores) {
            EXPECT_TRUE(all_close(*fused.scores, *without.scores, 0.0, 0.0));
          }
          ASSERT_EQ(fused.logsumexp->shape(), (Shape{2, 4, T}));
          const std::vector<float> got = fused.logsumexp->to_vector();
          const std::vector<float> want = expected.logsumexp->to_vector();
          for (size_t r = 0; r < got.size(); ++r) {
            const int64_t i = static_cast<int64_t>(r) % T;
            if (i % 3 == 0) {  // MaskKind::kFullyMaskedRows masks these rows out
              EXPECT_EQ(got[r], -std::numeric_limits<float>::infinity()) << "row " << r;
            } else {
              EXPECT_NEAR(got[r], want[r], 2e-6 * (1 + std::fabs(want[r]))) << "row " << r;
            }
          }
        }
      }
    }
  }
}

TEST(SdpaFlashBackward, EmptyAxesGiveEmptyOrZeroGradients) {
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const ScopedIsa scoped(isa);
    for (const Shape& sizes : {Shape{1, 0, 3}, Shape{1, 2, 0}, Shape{1, 60, 0}, Shape{0, 2, 3}}) {
      const int64_t B = sizes[0], T = sizes[1], S = sizes[2];
      const Tensor q = random_normal({B, T, 2, 4}, 1), k = random_normal({B, S, 2, 4}, 2),
                   v = random_normal({B, S, 2, 4}, 3), d_out = random_normal({B, T, 2, 4}, 4);
      const SdpaOptions options{.fully_masked_rows = FullyMaskedRows::kZero};
      const SdpaGradients<float> grads = scaled_dot_product_attention_backward(
          q, k, v, scaled_dot_product_attention(q, k, v, options), d_out, options);
      ASSERT_EQ(grads.query.shape(), q.shape());
      ASSERT_EQ(grads.key.shape(), k.shape());
      for (float x : grads.query.to_vector()) EXPECT_EQ(x, 0.0f);
      for (float x : grads.key.to_vector()) EXPECT_EQ(x, 0.0f);
      for (float x : grads.value.to_vector()) EXPECT_EQ(x, 0.0f);
    }
  }
}

TEST(SdpaFlashBackward, ReadsASavedLogsumexpThroughAView) {
  const Case c{.batch = 2,
               .query_len = 50,
               .key_len = 70,
               .heads = 2,
               .kv_heads = 1,
               .head_dim = 8,
               .value_dim = 8,
               .mask = MaskKind::kPerHead};
  const Problem problem = make_problem(c, 860);
  SdpaOptions options = problem.options;
  options.return_logsumexp = true;
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const ScopedIsa scoped(isa);
    SdpaResult<float> forward =
        scaled_dot_product_attention(problem.query, problem.key, problem.value, options);
    const SdpaGradients<float> expected = scaled_dot_product_attention_backward(
        problem.query, problem.key, problem.value, forward, problem.d_output, options);
    // The same values, every row one element into a row of 52 NaNs.
    Tensor padded({2, 2, 52});
    padded.fill(std::numeric_limits<float>::quiet_NaN());
    Tensor view = padded.slice(2, 1, 51);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 50; ++i) view(b, n, i) = (*forward.logsumexp)(b, n, i);
    ASSERT_FALSE(view.is_contiguous());
    forward.logsumexp = view;
    const SdpaGradients<float> got = scaled_dot_product_attention_backward(
        problem.query, problem.key, problem.value, forward, problem.d_output, options);
    EXPECT_TRUE(all_close(got.query, expected.query, 0.0, 0.0));
    EXPECT_TRUE(all_close(got.key, expected.key, 0.0, 0.0));
    EXPECT_TRUE(all_close(got.value, expected.value, 0.0, 0.0));
  }
}

TEST(SdpaFlashBackward, RefusesASavedLogsumexpOfTheWrongShape) {
  const Tensor q = random_normal({1, 2, 1, 3}, 1), k = random_normal({1, 4, 1, 3}, 2);
  const Tensor v = random_normal({1, 4, 1, 2}, 3);
  SdpaResult<float> forward = scaled_dot_product_attention(q, k, v, {.return_logsumexp = true});
  forward.logsumexp = Tensor({1, 2, 1});
  const std::string message = testing::value_error_message([&] {
    scaled_dot_product_attention_backward(q, k, v, forward, Tensor({1, 2, 1, 2}));
  });
  EXPECT_NE(message.find("logsumexp.shape=(1, 2, 1)"), std::string::npos) << message;
  EXPECT_NE(message.find("(1, 1, 2) (B, N, T)"), std::string::npos) << message;
}

}  // namespace
}  // namespace kattn
