// Incremental decoding with a key/value cache (ProjectedAttention::call_cached): stepping through
// a sequence one position or one chunk at a time gives the rows of one causal call on the whole
// sequence, for MultiHeadAttention and GroupQueryAttention; a cache filled once serves later
// queries as a call on the cached sequence does; bad caches and steps are refused by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/kv_cache.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kernel_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::all_close;
using testing::message_of;
using testing::random_normal;

std::vector<std::unique_ptr<ProjectedAttention>> layers() {
  std::vector<std::unique_ptr<ProjectedAttention>> all;
  all.push_back(std::make_unique<MultiHeadAttention>(
      MultiHeadAttention::Args{.num_heads = 4, .key_dim = 8, .value_dim = 6, .name = "mha"}));
  all.push_back(
      std::make_unique<MultiHeadAttention>(MultiHeadAttention::Args{.num_heads = 2,
                                                                    .key_dim = 4,
                                                                    .use_gate = true,
                                                                    .sliding_window = 5,
                                                                    .name = "gated_windowed"}));
  all.push_back(std::make_unique<GroupedQueryAttention>(GroupedQueryAttention::Args{
      .head_dim = 8, .num_query_heads = 4, .num_key_value_heads = 2, .name = "gqa"}));
  return all;
}

TEST(KVCache, StepsEqualTheRowsOfOneCausalCall) {
  const int64_t B = 2, S = 19, E = 16;
  const Tensor x = random_normal({B, S, E}, 7);
  std::vector<kernels::Isa> isas = testing::fused_isas();
  isas.push_back(kernels::Isa::kReference);
  for (const auto& layer : layers()) {
    SCOPED_TRACE(layer->name());
    const Tensor whole = layer->call(x, x, {.use_causal_mask = true}).output;
    for (const kernels::Isa isa : isas) {
      SCOPED_TRACE(kernels::isa_name(isa));
      const kernels::ScopedIsa scoped(isa);
      KVCache cache = layer->make_cache(B, 24);
      int64_t position = 0;
      for (const int64_t chunk : {1, 1, 5, 1, 11}) {
        const Tensor part = x.slice(1, position, position + chunk);
        const Tensor step = layer->call_cached(part, part, cache, {.use_causal_mask = true});
        EXPECT_TRUE(
            all_close(step, whole.slice(1, position, position + chunk).contiguous(), 1e-5, 1e-5))
            << "positions " << position << " to " << position + chunk;
        position += chunk;
        EXPECT_EQ(cache.length(), position);
      }
    }
  }
}

TEST(KVCache, AFilledCacheServesLaterQueriesAsTheCachedSequence) {
  const int64_t B = 2, S = 7, T = 3, E = 16;
  const Tensor encoded = random_normal({B, S, E}, 8);
  const Tensor first = random_normal({B, 1, E}, 9);
  const Tensor later = random_normal({B, T, E}, 10);
  for (const auto& layer : layers()) {
    SCOPED_TRACE(layer->name());
    layer->build(first.shape(), encoded.shape());
    KVCache cache = layer->make_cache(B, S);
    EXPECT_TRUE(all_close(layer->call_cached(first, encoded, cache),
                          layer->call(first, encoded).output, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(layer->call_cached(later, cache), layer->call(later, encoded).output,
                          1e-5, 1e-5));
    EXPECT_EQ(cache.length(), S);
  }
}

// A 16-bit cache holds the projections rounded to nearest: decoding with it stays within the
// stated error of one causal float32 call on the whole sequence (docs/semantics.md, "Cached
// calls": 2e-3 for float16, 1.6e-2 for bfloat16, relative to the outputs' largest magnitude), and
// equals attention over its own converted contents.
TEST(KVCache, HalfCachesStayWithinTheirStatedError) {
  const int64_t B = 2, S = 40, E = 16;
  const Tensor x = random_normal({B, S, E}, 12);
  for (const auto& layer : layers()) {
    const Tensor whole = layer->call(x, x, {.use_causal_mask = true}).output;
    float largest = 0.0f;
    for (int64_t i = 0; i < whole.size(); ++i)
      largest = std::max(largest, std::abs(whole.data()[i]));
    for (const auto& [dtype, bound] :
         {std::pair{CacheDtype::kFloat16, 2e-3f}, std::pair{CacheDtype::kBFloat16, 1.6e-2f}}) {
      SCOPED_TRACE(layer->name() + " " + cache_dtype_name(dtype));
      KVCache cache = layer->make_cache(B, S, dtype);
      EXPECT_EQ(cache.dtype(), dtype);
      float error = 0.0f;
      for (int64_t t = 0; t < S; ++t) {
        const Tensor part = x.slice(1, t, t + 1);
        const Tensor step = layer->call_cached(part, part, cache, {.use_causal_mask = true});
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t e = 0; e < step.dim(2); ++e) {
            error = std::max(error, std::abs(step(b, 0, e) - whole(b, t, e)));
          }
        }
      }
      EXPECT_LE(error, bound * largest);
      EXPECT_GT(error, 0.0f);  // the cache did round
      const Tensor later = random_normal({B, 3, E}, 13);
      const Tensor converted = layer->call_cached(later, cache);
      KVCache exact = layer->make_cache(B, S);
      exact.append(cache.keys(), cache.values());
      EXPECT_TRUE(all_close(converted, layer->call_cached(later, exact), 1e-5, 1e-5));
    }
  }
}

TEST(KVCache, RefusesWhatDoesNotFit) {
  MultiHeadAttention mha({.num_heads = 2, .key_dim = 4, .name = "mha"});
  EXPECT_EQ(message_of<ValueError>([&] { mha.make_cache(1, 4); }),
            "MultiHeadAttention 'mha': make_cache needs a built layer. Expected build() or a "
            "call first. Received: an unbuilt layer.");
  const Tensor x = random_normal({1, 3, 8}, 11);
  mha.build(x.shape(), x.shape());
  KVCache cache = mha.make_cache(1, 4);
  mha.call_cached(x, x, cache);
  EXPECT_EQ(message_of<ValueError>([&] { mha.call_cached(x, x, cache); }),
            "KVCache 'cache': the cache is full. Expected at most 1 more positions (max_length=4). "
            "Received: 3 positions after 3.");
  KVCache other(2, 4, 2, 4, 4);
  EXPECT_EQ(message_of<ValueError>([&] { mha.call_cached(x, x, other); }),
            "MultiHeadAttention 'mha': the cache does not fit this layer and query. Expected "
            "batch 1, 2 key/value heads of sizes 4 and 4. Received: batch 2, 2 heads of sizes 4 "
            "and 4.");
  KVCache fresh = mha.make_cache(1, 8);
  EXPECT_EQ(message_of<ValueError>(
                [&] { mha.call_cached(x, x.slice(1, 0, 2), fresh, {.use_causal_mask = true}); }),
            "MultiHeadAttention 'mha': a causal cached call adds one position per query. "
            "Expected value.shape[1] == query.shape[1]. Received: query.shape=(1, 3, 8), "
            "value.shape=(1, 2, 8).");
  EXPECT_EQ(fresh.length(), 0);
  EXPECT_THROW(KVCache(1, 0, 1, 1, 1), ValueError);
  EXPECT_THROW(fresh.append(Tensor({1, 2, 2, 4}), Tensor({1, 3, 2, 4})), ValueError);
  EXPECT_EQ(message_of<ValueError>([&] { fresh.half_keys(); }),
            "KVCache 'cache': a float32 cache has no 16-bit keys and values. Expected a float16 "
            "or bfloat16 cache. Received: dtype=float32.");
}

}  // namespace
}  // namespace kattn
