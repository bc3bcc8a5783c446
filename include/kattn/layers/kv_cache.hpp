// The keys and values a MultiHeadAttention or GroupQueryAttention layer has projected in earlier
// steps of incremental decoding: keras-hub's CachedMultiHeadAttention `cache` (one
// (B, 2, S, N, H) tensor there; two tensors here, since key and value heads may differ in size).
//
//   keys (B, S_max, K, Hk), values (B, S_max, K, Hv); positions [0, length()) are filled
//
// A layer's make_cache() makes one; its call_cached() appends each step's projections and
// attends to what is filled. Preallocated: appending never reallocates. Not to be written from
// two threads at once.
#pragma once

#include <cstdint>

#include "kattn/core/tensor.hpp"

namespace kattn {

class KVCache {
 public:
  // Room for max_length positions of `batch` sequences (every size > 0; ValueError otherwise).
  KVCache(int64_t batch, int64_t max_length, int64_t num_kv_heads, int64_t key_dim,
          int64_t value_dim);
  // Moved, not copied: a copy would share the storage but not the length.
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;
  KVCache(KVCache&&) = default;
  KVCache& operator=(KVCache&&) = default;

  int64_t batch() const { return keys_.dim(0); }
  int64_t max_length() const { return keys_.dim(1); }
  int64_t num_kv_heads() const { return keys_.dim(2); }
  int64_t key_dim() const { return keys_.dim(3); }
  int64_t value_dim() const { return values_.dim(3); }
  // The positions filled so far.
  int64_t length() const { return length_; }

  // Views of the filled positions: keys (B, length, K, Hk), values (B, length, K, Hv).
  Tensor keys() const { return keys_.slice(1, 0, length_); }
  Tensor values() const { return values_.slice(1, 0, length_); }

  // Writes keys (B, T, K, Hk) and values (B, T, K, Hv) at positions [length, length + T).
  // ValueError naming the shapes when they do not match the cache or T does not fit.
  void append(const Tensor& keys, const Tensor& values);
  // Empties the cache (length 0), keeping its storage.
  void clear() { length_ = 0; }

 private:
  Tensor keys_;
  Tensor values_;
  int64_t length_ = 0;
};

}  // namespace kattn
