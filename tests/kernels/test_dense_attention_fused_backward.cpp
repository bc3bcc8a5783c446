// The fused backward of Attention and AdditiveAttention (kernels/flash/sdpa_flash_backward* with
// FlashScoring, run by ops::dense_attention_backward) against the reference backward, on
// every instruction set this CPU runs. Each gradient's largest error against a double evaluation
// of the same problem must stay within a small multiple of the float reference's own, for every
// score function with and without its weights (their gradients too), query and key lengths across
// the backward's tile edges, feature sizes that are not multiples of 8, every mask, causal rows
// whose every key is masked (Keras's `score - 1e9` rows), dropout, and Tv = 0; gradients are added
// into what the buffers held, and come out bit for bit the same on any number of threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dense_attention_test_util.hpp"
#include "kattn/core/context.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "kernels/reference/dense_attention.hpp"
#include "ops/dense_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

namespace dense = kernels::reference::dense;
using kernels::Isa;
using kernels::ScopedIsa;
using testing::fused_isas;
using testing::kScorers;
using testing::random_mask;
using testing::random_normal;
using testing::Scorer;
using Kind = ops::DenseScore::Kind;

constexpr int64_t kBr = kernels::SdpaFlashBackwardTiles::kQueryBlock;
constexpr int64_t kBc = kernels::SdpaFlashBackwardTiles::kKeyBlock;

// How much larger than the float reference's error against double the fused kernel's may be (as
// in test_sdpa_flash_backward.cpp: the fused kernel adds the forward's rounding of each row's
// log-sum-exp and output).
constexpr double kErrorFactor = 5.0;
// The same for the weights' gradients: each is one sum over B * Tq * Tv terms that largely cancel
// (a few units against terms in the hundreds), so the float reference's error is a single sample
// that may happen to be small; D = dO . O, not sum_j P dP, shifts every dS a little (measured
// up to 25 times the reference's error).
constexpr double kWeightErrorFactor = 50.0;

struct Case {
  Scorer scorer = Scorer::kDot;
  int64_t batch = 2, tq = 5, tv = 7, dim = 8, value_dim = 8;
  bool query_mask = false, value_mask = false, causal = false;
  double dropout = 0.0;
  float amplitude = 1.0f;  // query and key scaled by this

  std::string name() const {
    std::string text = "scorer " + std::to_string(static_cast<int>(scorer)) + " " +
                       std::to_string(batch) + "x" + std::to_string(tq) + "x" + std::to_string(tv) +
                       "x" + std::to_string(dim) + "x" + std::to_string(value_dim);
    if (query_mask) text += " query_mask";
    if (value_mask) text += " value_mask";
    if (causal) text += " causal";
    if (dropout > 0) text += " dropout";
    return text;
  }
  Kind kind() const {
    if (scorer == Scorer::kDot || scorer == Scorer::kDotScaled) return Kind::kDot;
    if (scorer == Scorer::kConcat || scorer == Scorer::kConcatScaled) return Kind::kConcat;
    return Kind::kAdditive;
  }
  bool scaled() const {
    return scorer == Scorer::kDotScaled || scorer == Scorer::kConcatScaled ||
           scorer == Scorer::kAdditive;
  }
};

// A call's inputs and weights, and the gradient buffers' contents before the backward adds in.
struct Problem {
  Tensor query, key, value, scale, weight, d_output;
  Mask query_mask, value_mask;
  float before = 0.25f;
};

Problem make_problem(const Case& c, uint64_t seed) {
  Problem p;
  p.query = random_normal<float>({c.batch, c.tq, c.dim}, seed);
  p.key = random_normal<float>({c.batch, c.tv, c.dim}, seed + 1);
  for (Tensor* t : {&p.query, &p.key}) {
    for (int64_t i = 0; i < t->size(); ++i) t->data()[i] *= c.amplitude;
  }
  p.value = random_normal<float>({c.batch, c.tv, c.value_dim}, seed + 2);
  p.d_output = random_normal<float>({c.batch, c.tq, c.value_dim}, seed + 3);
  // Weights away from their initial ones, so that each one's place in the formula counts.
  p.scale = c.kind() == Kind::kAdditive ? random_normal<float>({c.dim}, seed + 4)
                                        : Tensor::full({}, c.kind() == Kind::kDot ? 0.37f : 1.7f);
  p.weight = Tensor::full({}, -0.6f);
  p.query_mask = random_mask({c.batch, c.tq}, static_cast<uint32_t>(seed + 5), 0.6);
  p.value_mask = random_mask({c.batch, c.tv}, static_cast<uint32_t>(seed + 6), 0.7);
  // With the causal mask, the first rows of the first batch entry see only masked keys.
  if (c.causal) {
    for (int64_t j = 0; j < c.tv && j < 3; ++j) p.value_mask.data()[j] = false;
  }
  return p;
}

constexpr uint64_t kDropoutKey = 0x5eed;

template <typename Real>
struct Grads {
  BasicTensor<Real> d_query, d_key, d_value, d_scale, d_weight;

  explicit Grads(const Problem& p)
      : d_query(p.query.shape()),
        d_key(p.key.shape()),
        d_value(p.value.shape()),
        d_scale(p.scale.shape()),
        d_weight(p.weight.shape()) {
    for (BasicTensor<Real>* t : all()) t->fill(static_cast<Real>(p.before));
  }
  std::vector<BasicTensor<Real>*> all() {
    return {&d_query, &d_key, &d_value, &d_scale, &d_weight};
  }
  std::vector<const BasicTensor<Real>*> all() const {
    return {&d_query, &d_key, &d_value, &d_scale, &d_weight};
  }
  dense::DenseGradients<Real> pointers(const Case& c) {
    return {.d_query = d_query.data(),
            .d_key = d_key.data(),
            .d_value = d_value.data(),
            .d_scale = c.scaled() ? d_scale.data() : nullptr,
            .d_concat_score_weight = c.kind() == Kind::kConcat ? d_weight.data() : nullptr};
  }
};

// ops::dense_attention_backward on the kernels of `isa` and `threads` threads.
Grads<float> run_float(const Case& c, const Problem& p, Isa isa, int64_t threads = 1) {
  const ScopedIsa scoped(isa);
  const ScopedNumThreads scope(threads);
  ops::DenseAttentionRun run;
  run.dims = {.batch = c.batch, .tq = c.tq, .tv = c.tv, .dim = c.dim, .value_dim = c.value_dim};
  run.score.kind = c.kind();
  run.score.scale = c.scaled() ? &p.scale : nullptr;
  run.score.concat_score_weight = c.kind() == Kind::kConcat ? &p.weight : nullptr;
  run.query = p.query.data();
  run.key = p.key.data();
  run.value = p.value.data();
  run.query_mask = c.query_mask ? p.query_mask.data() : nullptr;
  run.value_mask = c.value_mask ? p.value_mask.data() : nullptr;
  run.use_causal_mask = c.causal;
  run.dropout_rate = c.dropout;
  run.dropout_key = kDropoutKey;
  Grads<float> grads(p);
  ops::dense_attention_backward("Attention", run, p.d_output.data(), grads.pointers(c));
  return grads;
}

TensorF64 to_double(const Tensor& t) {
  TensorF64 out(t.shape());
  for (int64_t i = 0; i < t.size(); ++i) out.data()[i] = t.data()[i];
  return out;
}

Grads<double> run_double(const Case& c, const Problem& p) {
  const TensorF64 query = to_double(p.query), key = to_double(p.key), value = to_double(p.value);
  const TensorF64 scale = to_double(p.scale), weight = to_double(p.weight);
  const TensorF64 d_output = to_double(p.d_output);
  const dense::Dims dims{
      .batch = c.batch, .tq = c.tq, .tv = c.tv, .dim = c.dim, .value_dim = c.value_dim};
  const dense::Score score = c.kind() == Kind::kDot      ? dense::Score::kDot
                             : c.kind() == Kind::kConcat ? dense::Score::kConcat
                                                         : dense::Score::kAdditive;
  const dense::ScoreWeights<double> weights{.score = score,
                                            .scale = c.scaled() ? scale.data() : nullptr,
                                            .concat_score_weight = weight.data()};
  const dense::ApplyScoresArgs args{.query_mask = c.query_mask ? p.query_mask.data() : nullptr,
                                    .value_mask = c.value_mask ? p.value_mask.data() : nullptr,
                                    .use_causal_mask = c.causal,
                                    .dropout_rate = c.dropout,
                                    .dropout_key = kDropoutKey};
  Grads<double> grads(p);
  std::vector<double> workspace(
      static_cast<size_t>(dense::attention_backward_workspace_size(dims)) + 1);
  dense::attention_backward(dims, weights, args, query.data(), key.data(), value.data(),
                            d_output.data(), grads.pointers(c), workspace.data());
  return grads;
}

double max_error(const Tensor& actual, const TensorF64& expected) {
  double error = 0;
  for (int64_t i = 0; i < actual.size(); ++i) {
    error = std::max(error, std::abs(static_cast<double>(actual.data()[i]) - expected.data()[i]));
  }
  return error;
}

double max_abs(const TensorF64& t) {
  double m = 0;
  for (int64_t i = 0; i < t.size(); ++i) m = std::max(m, std::abs(t.data()[i]));
  return m;
}

// Every gradient of the fused backward within kErrorFactor (kWeightErrorFactor) times the float
// reference's error against double, plus a floor of eight float ulps of the largest gradient.
void expect_matches_reference(const Case& c, uint64_t seed) {
  SCOPED_TRACE(c.name());
  const Problem p = make_problem(c, seed);
  const Grads<double> exact = run_double(c, p);
  const Grads<float> reference = run_float(c, p, Isa::kReference);
  const char* names[] = {"d_query", "d_key", "d_value", "d_scale", "d_concat_score_weight"};
  for (Isa isa : fused_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const Grads<float> fused = run_float(c, p, isa);
    for (size_t g = 0; g < 5; ++g) {
      SCOPED_TRACE(names[g]);
      const TensorF64& expected = *exact.all()[g];
      const double reference_error = max_error(*reference.all()[g], expected);
      const double floor = 1e-6 * std::max(1.0, max_abs(expected));
      const double factor = g < 3 ? kErrorFactor : kWeightErrorFactor;
      EXPECT_LE(max_error(*fused.all()[g], expected), factor * reference_error + floor)
          << "largest expected " << max_abs(expected);
    }
  }
}

TEST(DenseAttentionFusedBackward, EveryScorerAcrossTileEdges) {
  uint64_t seed = 10;
  for (Scorer scorer : kScorers) {
    for (int64_t tq : {int64_t{1}, kBr - 1, kBr + 1, 2 * kBr + 3}) {
      for (int64_t tv : {int64_t{1}, int64_t{2}, kBc, kBc + 1}) {
        expect_matches_reference({.scorer = scorer, .tq = tq, .tv = tv, .dim = 16, .value_dim = 16},
                                 seed += 10);
      }
    }
  }
}

TEST(DenseAttentionFusedBackward, FeatureSizesThatAreNotMultiplesOfEight) {
  uint64_t seed = 1000;
  for (Scorer scorer : kScorers) {
    for (int64_t dim : {1, 3, 13}) {
      for (int64_t value_dim : {1, 7, 33}) {
        expect_matches_reference(
            {.scorer = scorer, .tq = 9, .tv = 20, .dim = dim, .value_dim = value_dim}, seed += 10);
      }
    }
  }
}

TEST(DenseAttentionFusedBackward, EveryMask) {
  uint64_t seed = 2000;
  for (Scorer scorer : kScorers) {
    for (bool query_mask : {false, true}) {
      for (bool value_mask : {false, true}) {
        for (bool causal : {false, true}) {
          expect_matches_reference({.scorer = scorer,
                                    .batch = 3,
                                    .tq = kBr + 5,
                                    .tv = kBc + 9,
                                    .query_mask = query_mask,
                                    .value_mask = value_mask,
                                    .causal = causal},
                                   seed += 10);
        }
      }
    }
  }
}

TEST(DenseAttentionFusedBackward, RowsWhoseEveryKeyIsMaskedFollowKeras) {
  // Causal with the first keys masked: rows 0..2 of batch entry 0 see only masked keys, whose
  // `score - 1e9` makes them a softmax over every key, those past the diagonal included. Their
  // probabilities (near 1 / Tv) need each row's log(sum) apart from its max near -1e9.
  uint64_t seed = 3000;
  for (Scorer scorer : kScorers) {
    const Case c{.scorer = scorer, .tq = 6, .tv = kBc + 40, .value_mask = true, .causal = true};
    expect_matches_reference(c, seed += 10);
    // Those rows pass real gradients on to the values past the diagonal.
    const Problem p = make_problem(c, seed);
    const Grads<float> fused = run_float(c, p, fused_isas().back());
    const int64_t last_key = (c.tv - 1) * c.value_dim;
    EXPECT_NE(fused.d_value.data()[last_key], p.before);
  }
}

TEST(DenseAttentionFusedBackward, DropoutDropsWhatTheForwardDropped) {
  uint64_t seed = 4000;
  for (Scorer scorer : kScorers) {
    expect_matches_reference({.scorer = scorer,
                              .tq = kBr + 2,
                              .tv = kBc + 3,
                              .query_mask = true,
                              .value_mask = true,
                              .dropout = 0.3},
                             seed += 10);
  }
}

TEST(DenseAttentionFusedBackward, TanhOverItsWholeRange) {
  // Arguments up to about +-20: saturated, steep and near-zero tanh and its derivative.
  uint64_t seed = 5000;
  for (Scorer scorer :
       {Scorer::kConcat, Scorer::kConcatScaled, Scorer::kAdditive, Scorer::kAdditiveUnscaled}) {
    expect_matches_reference(
        {.scorer = scorer, .tq = 17, .tv = 19, .dim = 40, .value_dim = 8, .amplitude = 6.0f},
        seed += 10);
  }
}

TEST(DenseAttentionFusedBackward, SameResultForEveryThreadCount) {
  // One batch entry and four key blocks: four chunks of partial dQ and weight sums.
  uint64_t seed = 6000;
  for (Scorer scorer : kScorers) {
    const Case c{.scorer = scorer,
                 .batch = 1,
                 .tq = 2 * kBr + 7,
                 .tv = 3 * kBc + 5,
                 .dim = 12,
                 .value_dim = 9,
                 .value_mask = true,
                 .causal = true,
                 .dropout = 0.2};
    SCOPED_TRACE(c.name());
    const Problem p = make_problem(c, seed += 10);
    for (Isa isa : fused_isas()) {
      SCOPED_TRACE(kernels::isa_name(isa));
      const Grads<float> one = run_float(c, p, isa, 1);
      for (int64_t threads : {2, 3, 8}) {
        const Grads<float> many = run_float(c, p, isa, threads);
        for (size_t g = 0; g < 5; ++g) {
          EXPECT_EQ(many.all()[g]->to_vector(), one.all()[g]->to_vector())
              << "gradient " << g << " on " << threads << " threads";
        }
      }
    }
  }
}

TEST(DenseAttentionFusedBackward, EmptySequencesLeaveTheGradientsAsTheyWere) {
  for (Scorer scorer : kScorers) {
    for (const auto& [tq, tv] : {std::pair<int64_t, int64_t>{4, 0}, {0, 5}}) {
      const Case c{.scorer = scorer, .tq = tq, .tv = tv};
      SCOPED_TRACE(c.name());
      const Problem p = make_problem(c, 7000);
      for (Isa isa : fused_isas()) {
        const Grads<float> grads = run_float(c, p, isa);
        for (const BasicTensor<float>* t : grads.all()) {
          for (float x : t->to_vector()) EXPECT_EQ(x, p.before);
        }
      }
    }
  }
}

}  // namespace
}  // namespace kattn
