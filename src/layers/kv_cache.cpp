#include "kattn/layers/kv_cache.hpp"

#include <algorithm>
#include <string>

#include "kattn/core/error.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kSource{"KVCache", "cache"};

// Copies x (B, T, K, H) into positions [at, at + T) of storage (B, S_max, K, H).
void write_positions(Tensor& storage, const Tensor& x, int64_t at) {
  const Tensor rows = x.contiguous();
  const int64_t B = x.dim(0), T = x.dim(1), row = x.dim(2) * x.dim(3);
  for (int64_t b = 0; b < B; ++b) {
    const float* from = rows.data() + b * T * row;
    std::copy(from, from + T * row, storage.data() + (b * storage.dim(1) + at) * row);
  }
}

}  // namespace

KVCache::KVCache(int64_t batch, int64_t max_length, int64_t num_kv_heads, int64_t key_dim,
                 int64_t value_dim) {
  for (const auto& [name, size] : {std::pair<const char*, int64_t>{"batch", batch},
                                   {"max_length", max_length},
                                   {"num_kv_heads", num_kv_heads},
                                   {"key_dim", key_dim},
                                   {"value_dim", value_dim}}) {
    if (size <= 0) {
      throw_value_error(kSource, std::string("invalid `") + name + "`", "a positive integer",
                        std::string(name) + "=" + std::to_string(size));
    }
  }
  keys_ = Tensor({batch, max_length, num_kv_heads, key_dim});
  values_ = Tensor({batch, max_length, num_kv_heads, value_dim});
}

void KVCache::append(const Tensor& keys, const Tensor& values) {
  const Shape expected_keys{batch(), keys.rank() == 4 ? keys.dim(1) : -1, num_kv_heads(),
                            key_dim()};
  const Shape expected_values{batch(), expected_keys[1], num_kv_heads(), value_dim()};
  if (keys.shape() != expected_keys || values.shape() != expected_values) {
    throw_value_error(kSource, "the appended keys and values do not fit the cache",
                      "keys (B, T, K, Hk) = " + shape_to_string(expected_keys) +
                          " and values (B, T, K, Hv) = " + shape_to_string(expected_values),
                      "keys.shape=" + shape_to_string(keys.shape()) +
                          ", values.shape=" + shape_to_string(values.shape()));
  }
  const int64_t T = keys.dim(1);
  if (length_ + T > max_length()) {
    throw_value_error(kSource, "the cache is full",
                      "at most " + std::to_string(max_length() - length_) +
                          " more positions (max_length=" + std::to_string(max_length()) + ")",
                      std::to_string(T) + " positions after " + std::to_string(length_));
  }
  write_positions(keys_, keys, length_);
  write_positions(values_, values, length_);
  length_ += T;
}

}  // namespace kattn
