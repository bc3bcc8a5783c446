// query_offset: the queries of an incremental-decoding step stand after the cached keys. Rows
// [offset, offset + T) of a causal (or sliding-window) call over the whole sequence equal a call
// with only those query rows, the keys up to offset + T, and query_offset = offset, on every
// kernel path (T = 1 takes the decode kernel).
#include <gtest/gtest.h>

#include <vector>

#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::scaled_dot_product_attention;
using ops::SdpaOptions;
using testing::all_close;
using testing::random_normal;

TEST(SdpaQueryOffset, EqualsTheRowsOfTheWholeSequence) {
  const int64_t B = 2, S = 37, N = 4, K = 2, H = 8;
  const Tensor q = random_normal({B, S, N, H}, 1);
  const Tensor k = random_normal({B, S, K, H}, 2);
  const Tensor v = random_normal({B, S, K, H}, 3);
  std::vector<kernels::Isa> isas = testing::fused_isas();
  isas.push_back(kernels::Isa::kReference);
  for (const kernels::Isa isa : isas) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const kernels::ScopedIsa scoped(isa);
    for (const int64_t window : {0, 5}) {
      const SdpaOptions whole_options{.is_causal = true, .sliding_window = window};
      const Tensor whole = scaled_dot_product_attention(q, k, v, whole_options).output;
      for (const auto& [offset, T] : std::vector<std::pair<int64_t, int64_t>>{
               {0, 1}, {0, 37}, {9, 1}, {36, 1}, {20, 3}, {17, 20}}) {
        SCOPED_TRACE("window " + std::to_string(window) + ", offset " + std::to_string(offset) +
                     ", T " + std::to_string(T));
        SdpaOptions step_options = whole_options;
        step_options.query_offset = offset;
        const Tensor step =
            scaled_dot_product_attention(q.slice(1, offset, offset + T), k.slice(1, 0, offset + T),
                                         v.slice(1, 0, offset + T), step_options)
                .output;
        EXPECT_TRUE(all_close(step, whole.slice(1, offset, offset + T).contiguous(), 1e-5, 1e-5));
      }
    }
  }
}

TEST(SdpaQueryOffset, MustNotBeNegative) {
  const Tensor x = random_normal({1, 2, 1, 4}, 4);
  EXPECT_THROW(scaled_dot_product_attention(x, x, x, {.is_causal = true, .query_offset = -1}),
               ValueError);
}

}  // namespace
}  // namespace kattn
