// Keys and values stored as 16-bit floats (ops::HalfSequence, what a half-precision KVCache
// holds): the op equals the float op on the same elements converted to float32, for both formats
// and on every kernel path (decoding steps read the 16-bit elements directly, other calls convert
// them), with grouped heads, head sizes that leave scalar tails, causal and sliding-window steps
// after cached keys, and rows left with no key to attend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kattn/core/half.hpp"
#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::HalfSequence;
using ops::scaled_dot_product_attention;
using ops::SdpaOptions;
using testing::all_close;
using testing::random_normal;

// x (B, S, K, H) rounded into 16-bit storage of max_length > S positions, seen as its first S.
struct Stored {
  std::vector<uint16_t> storage;
  HalfSequence view;

  Stored(const Tensor& x, int64_t max_length, HalfFormat format) {
    const int64_t B = x.dim(0), S = x.dim(1), K = x.dim(2), H = x.dim(3);
    storage.assign(static_cast<size_t>(B * max_length * K * H), 0xffff);  // NaN past S
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t k = 0; k < K; ++k)
          for (int64_t h = 0; h < H; ++h)
            storage[static_cast<size_t>(((b * max_length + s) * K + k) * H + h)] =
                float_to_half(x(b, s, k, h), format);
    view = HalfSequence{storage.data(), x.shape(), {max_length * K * H, K * H, H, 1}, format};
  }
};

std::vector<kernels::Isa> every_isa() {
  std::vector<kernels::Isa> isas = testing::fused_isas();
  isas.push_back(kernels::Isa::kReference);
  return isas;
}

TEST(SdpaHalf, EqualsTheFloatOpOnTheConvertedElements) {
  const int64_t B = 2, S = 300, N = 4, K = 2, H = 44, Hv = 20;  // 300 keys: two decode chunks
  const Tensor k = random_normal({B, S, K, H}, 2);
  const Tensor v = random_normal({B, S, K, Hv}, 3);
  for (const HalfFormat format : {HalfFormat::kFloat16, HalfFormat::kBFloat16}) {
    const Stored keys(k, S + 7, format), values(v, S + 7, format);
    const Tensor k32 = keys.view.to_float(), v32 = values.view.to_float();
    for (const kernels::Isa isa : every_isa()) {
      const kernels::ScopedIsa scoped(isa);
      for (const int64_t T : {1, 3, 4, 9}) {
        const Tensor q = random_normal({B, T, N, H}, static_cast<uint64_t>(10 + T));
        for (const SdpaOptions& options :
             {SdpaOptions{.scale = 0.2},
              SdpaOptions{.scale = 0.2, .is_causal = true, .query_offset = S - T},
              SdpaOptions{.is_causal = true, .sliding_window = 9, .query_offset = 150},
              SdpaOptions{.sliding_window = 2, .query_offset = S + 5},  // no key in the window
              SdpaOptions{.return_logsumexp = true}}) {
          SCOPED_TRACE(std::string(half_format_name(format)) + " " + kernels::isa_name(isa) +
                       " T=" + std::to_string(T) + " causal=" + std::to_string(options.is_causal) +
                       " window=" + std::to_string(options.sliding_window));
          const ops::SdpaResult<float> half =
              scaled_dot_product_attention(q, keys.view, values.view, options);
          const ops::SdpaResult<float> full = scaled_dot_product_attention(q, k32, v32, options);
          EXPECT_TRUE(all_close(half.output, full.output, 1e-5, 1e-5));
          if (options.return_logsumexp) {
            EXPECT_TRUE(all_close(*half.logsumexp, *full.logsumexp, 1e-5, 1e-5));
          }
        }
      }
    }
  }
}

TEST(SdpaHalf, KeysAndValuesMustShareTheirFormat) {
  const Tensor x = random_normal({1, 3, 1, 8}, 4);
  const Stored f16(x, 3, HalfFormat::kFloat16), bf16(x, 3, HalfFormat::kBFloat16);
  EXPECT_THROW(scaled_dot_product_attention(x.slice(1, 0, 1), f16.view, bf16.view), ValueError);
  HalfSequence flat = f16.view;
  flat.shape = {3, 8};
  EXPECT_THROW(scaled_dot_product_attention(x, flat, f16.view), ValueError);
  EXPECT_THROW(flat.to_float(), ValueError);
}

}  // namespace
}  // namespace kattn
