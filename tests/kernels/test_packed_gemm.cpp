// The projections' packed product (kernels/gemm/packed_gemm.hpp, AVX2) against a
// double-precision product: sizes across the register block, panel and
// depth-block edges, K = 0, a bias, rows of A and C further apart than their lengths with
// poison between them, and thread counts; and the packed copies a layer keeps of its weights,
// which must follow set_weight.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kattn/layers/multi_head_attention.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/gemm/packed_gemm.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using kernels::Isa;
using kernels::PackedGemmTiles;
using testing::all_close;
using testing::random_normal;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kUntouched = 12345.0f;

void expect_product(int64_t m, int64_t n, int64_t k, bool bias, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "M=" << m << " N=" << n << " K=" << k << (bias ? " bias" : ""));
  const int64_t lda = k + 3, ldc = n + 5;
  const Tensor a_values = random_normal({m, k}, seed);
  const Tensor b = random_normal({k, n}, seed + 1);
  const Tensor bias_values = random_normal({n}, seed + 2);
  std::vector<float> a(static_cast<size_t>(m * lda), kNaN);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) a[static_cast<size_t>(i * lda + j)] = a_values(i, j);
  const kernels::PackedMatrix packed(b.data(), k, n);

  for (const Isa isa : testing::packed_gemm_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const kernels::ScopedIsa scoped(isa);
    std::vector<float> first;
    for (int64_t threads : {1, 3}) {
      std::vector<float> c(static_cast<size_t>(m * ldc), kUntouched);
      kernels::packed_gemm_run(
          {m, a.data(), lda, &packed, bias ? bias_values.data() : nullptr, c.data(), ldc}, threads);
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < ldc; ++j) {
          const float actual = c[static_cast<size_t>(i * ldc + j)];
          if (j >= n) {
            ASSERT_EQ(actual, kUntouched) << "wrote past N at " << i << ", " << j;
            continue;
          }
          double expected = 0.0, magnitude = 0.0;
          for (int64_t h = 0; h < k; ++h) {
            expected += static_cast<double>(a_values(i, h)) * b(h, j);
            magnitude += std::fabs(static_cast<double>(a_values(i, h)) * b(h, j));
          }
          if (bias) {
            expected += bias_values(j);
            magnitude += std::fabs(bias_values(j));
          }
          ASSERT_NEAR(actual, expected, 1e-6 + 1e-6 * magnitude) << "at " << i << ", " << j;
        }
      }
      if (first.empty()) {
        first = c;
      } else {
        EXPECT_EQ(c, first) << "the result depends on the thread count";
      }
    }
  }
}

TEST(PackedGemm, SizesAcrossBlockEdges) {
  if (testing::packed_gemm_isas().empty()) GTEST_SKIP() << "no AVX2 or AVX-512 on this CPU";
  const int64_t depth = PackedGemmTiles::kDepth, panel = PackedGemmTiles::kPanel;
  const int64_t rows = PackedGemmTiles::kRowBlock;
  const int64_t wide = PackedGemmTiles::kPanelsPerItem * panel;
  uint64_t seed = 10;
  for (int64_t m : {int64_t{1}, int64_t{5}, int64_t{6}, int64_t{7}, rows, rows + 1}) {
    for (int64_t n : {int64_t{1}, panel - 1, panel, panel + 1, wide + 3}) {
      for (int64_t k : {int64_t{1}, int64_t{13}, depth, depth + 1}) {
        expect_product(m, n, k, (m + n + k) % 2 == 0, ++seed);
      }
    }
  }
  expect_product(2 * rows + 17, 2 * wide + 9, 2 * depth + 33, true, ++seed);
}

TEST(PackedGemm, EmptySumIsTheBias) {
  if (testing::packed_gemm_isas().empty()) GTEST_SKIP() << "no AVX2 or AVX-512 on this CPU";
  expect_product(7, 20, 0, false, 1);
  expect_product(7, 20, 0, true, 2);
}

TEST(PackedGemm, LayersRepackAfterSetWeight) {
  // A call packs the projection kernels; set_weight must make the next call use the new ones.
  if (testing::packed_gemm_isas().empty()) GTEST_SKIP() << "no AVX2 or AVX-512 on this CPU";
  const Tensor x = random_normal({2, 5, 8}, 3);
  for (const Isa isa : testing::packed_gemm_isas()) {
    const kernels::ScopedIsa scoped(isa);
    MultiHeadAttention layer({.num_heads = 2, .key_dim = 4});
    (void)layer.call(x, x);
    const Tensor changed = random_normal(layer.weight("query/kernel").shape(), 4);
    layer.set_weight("query/kernel", changed);
    MultiHeadAttention fresh({.num_heads = 2, .key_dim = 4});
    fresh.build(x.shape(), x.shape());
    fresh.set_weights(layer.get_weights());
    EXPECT_TRUE(all_close(layer.call(x, x).output, fresh.call(x, x).output, 0.0, 0.0));
    std::vector<Tensor> weights = layer.get_weights();
    for (Tensor& w : weights) w = random_normal(w.shape(), 5);
    layer.set_weights(weights);
    fresh.set_weights(weights);
    EXPECT_TRUE(all_close(layer.call(x, x).output, fresh.call(x, x).output, 0.0, 0.0));
  }
}

}  // namespace
}  // namespace kattn
