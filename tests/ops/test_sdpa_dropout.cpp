// Dropout on the attention probabilities, statistically, on every kernel path: each element is
// kept with probability 1 - rate and kept ones are scaled by 1 / (1 - rate), so the output is
// unbiased; the same key drops the same elements; rate 0 is the identity; the layers drop only
// in training, with the same seed giving the same result and its backward the same mask.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::scaled_dot_product_attention;
using ops::SdpaOptions;
using testing::random_normal;

std::vector<kernels::Isa> every_isa() {
  std::vector<kernels::Isa> isas = testing::fused_isas();
  isas.push_back(kernels::Isa::kReference);
  return isas;
}

// Zero queries give every key probability 1 / S; one-hot values (Hv = S) then make output
// element (b, i, n, j) the dropped probability of key j: 0, or 1 / ((1 - rate) S).
TEST(SdpaDropout, KeepsOneMinusRateAndScalesTheKeptOnes) {
  const int64_t B = 2, T = 96, N = 4, S = 64;
  const Tensor q({B, T, N, 8});
  const Tensor k = random_normal({B, S, N, 8}, 1);
  Tensor v({B, S, N, S});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < S; ++j)
      for (int64_t n = 0; n < N; ++n) v(b, j, n, j) = 1.0f;
  for (const kernels::Isa isa : every_isa()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const kernels::ScopedIsa scoped(isa);
    for (const double rate : {0.1, 0.5, 0.8}) {
      const SdpaOptions options{.dropout_rate = rate, .dropout_key = 42};
      const Tensor out = scaled_dot_product_attention(q, k, v, options).output;
      const double kept_value = 1.0 / ((1.0 - rate) * static_cast<double>(S));
      int64_t kept = 0;
      double sum = 0;
      for (int64_t i = 0; i < out.size(); ++i) {
        const double x = out.data()[i];
        if (x != 0.0) {
          ++kept;
          EXPECT_NEAR(x, kept_value, 1e-6 * kept_value);
        }
        sum += x;
      }
      const auto n = static_cast<double>(out.size());
      const double p = 1.0 - rate;
      // Within 5 standard deviations of a binomial(n, 1 - rate).
      EXPECT_NEAR(static_cast<double>(kept) / n, p, 5.0 * std::sqrt(p * rate / n)) << rate;
      // Unbiased: the mean output is the mean probability, 1 / S.
      EXPECT_NEAR(sum / n, 1.0 / static_cast<double>(S), 5.0 * kept_value * std::sqrt(p * rate / n))
          << rate;
    }
  }
}

TEST(SdpaDropout, SameKeySameMaskRateZeroIsTheIdentity) {
  const Tensor q = random_normal({2, 9, 2, 5}, 2);
  const Tensor k = random_normal({2, 11, 2, 5}, 3);
  const Tensor v = random_normal({2, 11, 2, 4}, 4);
  for (const kernels::Isa isa : every_isa()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const kernels::ScopedIsa scoped(isa);
    const Tensor clean = scaled_dot_product_attention(q, k, v).output;
    const Tensor zero_rate =
        scaled_dot_product_attention(q, k, v, {.dropout_rate = 0.0, .dropout_key = 9}).output;
    EXPECT_EQ(zero_rate.to_vector(), clean.to_vector());
    const SdpaOptions options{.dropout_rate = 0.3, .dropout_key = 7};
    const Tensor a = scaled_dot_product_attention(q, k, v, options).output;
    const Tensor b = scaled_dot_product_attention(q, k, v, options).output;
    EXPECT_EQ(a.to_vector(), b.to_vector());
    const Tensor other =
        scaled_dot_product_attention(q, k, v, {.dropout_rate = 0.3, .dropout_key = 8}).output;
    EXPECT_NE(a.to_vector(), other.to_vector());
  }
}

// The layers: dropout only with training, the same seed the same outputs and gradients, and a
// fresh key per training call.
template <typename LayerType>
void check_layer_dropout(const typename LayerType::Args& args) {
  const Tensor x = random_normal({2, 6, 4}, 5);
  LayerType a(args), b(args);
  typename LayerType::Args no_dropout = args;
  no_dropout.dropout = 0.0;
  LayerType plain(no_dropout);
  a.build(x.shape(), x.shape());
  b.build(x.shape(), x.shape());
  plain.build(x.shape(), x.shape());
  b.set_weights(a.get_weights());
  plain.set_weights(a.get_weights());

  const Tensor inference = a.call(x, x).output;
  EXPECT_EQ(inference.to_vector(), plain.call(x, x).output.to_vector());
  const AttentionForward fa = a.forward(x, x, {.training = true});
  const AttentionForward fb = b.forward(x, x, {.training = true});
  EXPECT_EQ(fa.result.output.to_vector(), fb.result.output.to_vector());
  EXPECT_NE(fa.result.output.to_vector(), inference.to_vector());
  // The next training call draws another key.
  EXPECT_NE(a.forward(x, x, {.training = true}).result.output.to_vector(),
            fa.result.output.to_vector());

  const Tensor d_output = random_normal(fa.result.output.shape(), 6);
  std::vector<Tensor> ga = a.zero_gradients(), gb = b.zero_gradients();
  const AttentionInputGradients ia = a.backward(fa, d_output, ga);
  const AttentionInputGradients ib = b.backward(fb, d_output, gb);
  EXPECT_EQ(ia.query.to_vector(), ib.query.to_vector());
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_EQ(ga[i].to_vector(), gb[i].to_vector());
}

TEST(SdpaDropout, LayersDropInTrainingOnlyAndReproduceBySeed) {
  check_layer_dropout<MultiHeadAttention>(
      {.num_heads = 2, .key_dim = 3, .dropout = 0.5, .seed = 17, .name = "mha"});
  check_layer_dropout<GroupedQueryAttention>({.head_dim = 3,
                                              .num_query_heads = 4,
                                              .num_key_value_heads = 2,
                                              .dropout = 0.5,
                                              .seed = 17,
                                              .name = "gqa"});
}

}  // namespace
}  // namespace kattn
