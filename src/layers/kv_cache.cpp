#include "kattn/layers/kv_cache.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "kattn/core/error.hpp"
#include "kattn/core/half.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kSource{"KVCache", "cache"};

HalfFormat half_format(CacheDtype dtype) {
  return dtype == CacheDtype::kFloat16 ? HalfFormat::kFloat16 : HalfFormat::kBFloat16;
}

// Copies x (B, T, K, H) into positions [at, at + T) of storage (B, S_max, K, H), converting
// each element with `convert`.
template <typename Element, typename Convert>
void write_positions(Element* storage, int64_t max_length, const Tensor& x, int64_t at,
                     Convert convert) {
  const Tensor rows = x.contiguous();
  const int64_t B = x.dim(0), T = x.dim(1), row = x.dim(2) * x.dim(3);
  for (int64_t b = 0; b < B; ++b) {
    const float* from = rows.data() + b * T * row;
    std::transform(from, from + T * row, storage + (b * max_length + at) * row, convert);
  }
}

}  // namespace

const char* cache_dtype_name(CacheDtype dtype) {
  return dtype == CacheDtype::kFloat32 ? "float32" : half_format_name(half_format(dtype));
}

KVCache::KVCache(int64_t batch, int64_t max_length, int64_t num_kv_heads, int64_t key_dim,
                 int64_t value_dim, CacheDtype dtype)
    : dtype_(dtype) {
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
  key_shape_ = {batch, max_length, num_kv_heads, key_dim};
  value_shape_ = {batch, max_length, num_kv_heads, value_dim};
  if (dtype_ == CacheDtype::kFloat32) {
    float_keys_ = Tensor(key_shape_);
    float_values_ = Tensor(value_shape_);
  } else {
    half_keys_.resize(static_cast<size_t>(num_elements(key_shape_)));
    half_values_.resize(static_cast<size_t>(num_elements(value_shape_)));
  }
}

Tensor KVCache::keys() const {
  return dtype_ == CacheDtype::kFloat32 ? float_keys_.slice(1, 0, length_) : half_keys().to_float();
}

Tensor KVCache::values() const {
  return dtype_ == CacheDtype::kFloat32 ? float_values_.slice(1, 0, length_)
                                        : half_values().to_float();
}

ops::HalfSequence KVCache::half_keys() const { return half_view(half_keys_, key_shape_); }

ops::HalfSequence KVCache::half_values() const { return half_view(half_values_, value_shape_); }

ops::HalfSequence KVCache::half_view(const std::vector<uint16_t>& storage,
                                     const Shape& shape) const {
  if (dtype_ == CacheDtype::kFloat32) {
    throw_value_error(kSource, "a float32 cache has no 16-bit keys and values",
                      "a float16 or bfloat16 cache", "dtype=float32");
  }
  const int64_t H = shape[3], K = shape[2], S_max = shape[1];
  return ops::HalfSequence{
      storage.data(), {shape[0], length_, K, H}, {S_max * K * H, K * H, H, 1}, half_format(dtype_)};
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
  if (dtype_ == CacheDtype::kFloat32) {
    const auto same = [](float x) { return x; };
    write_positions(float_keys_.data(), max_length(), keys, length_, same);
    write_positions(float_values_.data(), max_length(), values, length_, same);
  } else {
    const auto round = [format = half_format(dtype_)](float x) { return float_to_half(x, format); };
    write_positions(half_keys_.data(), max_length(), keys, length_, round);
    write_positions(half_values_.data(), max_length(), values, length_, round);
  }
  length_ += T;
}

}  // namespace kattn
