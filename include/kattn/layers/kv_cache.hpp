// The keys and values a MultiHeadAttention or GroupQueryAttention layer has projected in earlier
// steps of incremental decoding: keras-hub's CachedMultiHeadAttention `cache` (one
// (B, 2, S, N, H) tensor there; two tensors here, since key and value heads may differ in size).
//
//   keys (B, S_max, K, Hk), values (B, S_max, K, Hv); positions [0, length()) are filled
//
// A layer's make_cache() makes one; its call_cached() appends each step's projections and
// attends to what is filled. Preallocated: appending never reallocates. Not to be written from
// two threads at once.
//
// Stored as float32, or as 16-bit floats (float16, bfloat16): half the memory, and half the bytes
// a decoding step reads, which is what bounds its speed at long contexts. Appended projections
// are rounded to nearest; the attention then runs in float32 on the rounded keys and values.
#pragma once

#include <cstdint>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/ops/sdpa.hpp"

namespace kattn {

enum class CacheDtype { kFloat32, kFloat16, kBFloat16 };

// "float32", "float16" or "bfloat16".
const char* cache_dtype_name(CacheDtype dtype);

class KVCache {
 public:
  // Room for max_length positions of `batch` sequences (every size > 0; ValueError otherwise).
  KVCache(int64_t batch, int64_t max_length, int64_t num_kv_heads, int64_t key_dim,
          int64_t value_dim, CacheDtype dtype = CacheDtype::kFloat32);
  // Moved, not copied: a copy would share the storage but not the length.
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;
  KVCache(KVCache&&) = default;
  KVCache& operator=(KVCache&&) = default;

  int64_t batch() const { return key_shape_[0]; }
  int64_t max_length() const { return key_shape_[1]; }
  int64_t num_kv_heads() const { return key_shape_[2]; }
  int64_t key_dim() const { return key_shape_[3]; }
  int64_t value_dim() const { return value_shape_[3]; }
  CacheDtype dtype() const { return dtype_; }
  // The positions filled so far.
  int64_t length() const { return length_; }

  // The filled positions as float32, keys (B, length, K, Hk) and values (B, length, K, Hv):
  // views of a float32 cache's storage, converted copies of a 16-bit one's.
  Tensor keys() const;
  Tensor values() const;
  // The filled positions of a float16 or bfloat16 cache as the attention op reads them
  // (kattn/ops/sdpa.hpp); ValueError for a float32 cache.
  ops::HalfSequence half_keys() const;
  ops::HalfSequence half_values() const;

  // Writes keys (B, T, K, Hk) and values (B, T, K, Hv) at positions [length, length + T),
  // rounded to the nearest 16-bit float in a 16-bit cache. ValueError naming the shapes when
  // they do not match the cache or T does not fit.
  void append(const Tensor& keys, const Tensor& values);
  // Empties the cache (length 0), keeping its storage.
  void clear() { length_ = 0; }

 private:
  ops::HalfSequence half_view(const std::vector<uint16_t>& storage, const Shape& shape) const;

  CacheDtype dtype_;
  Shape key_shape_;                                // (B, S_max, K, Hk)
  Shape value_shape_;                              // (B, S_max, K, Hv)
  Tensor float_keys_, float_values_;               // a float32 cache's storage
  std::vector<uint16_t> half_keys_, half_values_;  // a 16-bit cache's
  int64_t length_ = 0;
};

}  // namespace kattn
