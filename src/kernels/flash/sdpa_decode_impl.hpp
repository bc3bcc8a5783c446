// The chunk step of the decode kernel (kernels/flash/sdpa_decode.hpp), written once over a
// vector type V of eight floats. Included only by the kernels/<isa>/sdpa_decode.cpp files; every
// function is a member of SdpaDecode<V> (see sdpa_flash_impl.hpp for why).
#pragma once

#include <cstdint>
#include <limits>

#include "kattn/random.hpp"
#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/vec_exp.hpp"

namespace kattn::kernels {

template <typename V>
struct SdpaDecode {
  static constexpr int64_t kChunk = SdpaDecodeTiles::kKeyChunk;
  static constexpr float kInf = std::numeric_limits<float>::infinity();

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }

  // sum_h q[h] k[h] over `length` contiguous floats.
  static float dot(const float* q, const float* k, int64_t length) {
    V acc = V::zero();
    int64_t h = 0;
    for (; h + 8 <= length; h += 8) acc = fma(V::load(q + h), V::load(k + h), acc);
    float sum = hsum(acc);
    for (; h < length; ++h) sum += q[h] * k[h];
    return sum;
  }

  // logits[j - j0] = scale * q . key[j] for the chunk's keys, -inf where a mask excludes them.
  static void logits(const SdpaParams<float>& p, int64_t b, int64_t n, int64_t i, int64_t kv,
                     int64_t j0, int64_t j1, float* out) {
    const int64_t* qs = p.query_strides;
    const int64_t* ks = p.key_strides;
    const float* q = p.query + b * qs[0] + i * qs[1] + n * qs[2];
    const float* key = p.key + b * ks[0] + kv * ks[2];
    const bool contiguous = qs[3] == 1 && ks[3] == 1;
    for (int64_t j = j0; j < j1; ++j) {
      const float* k = key + j * ks[1];
      float sum = 0.0f;
      if (contiguous) {
        sum = dot(q, k, p.head_dim);
      } else {
        for (int64_t h = 0; h < p.head_dim; ++h) sum += q[h * qs[3]] * k[h * ks[3]];
      }
      out[j - j0] = sum * p.scale;
    }
    if (p.mask != nullptr) {
      const int64_t* ms = p.mask_strides;
      const bool* row = p.mask + b * ms[0] + n * ms[1] + i * ms[2];
      for (int64_t j = j0; j < j1; ++j) {
        if (!row[j * ms[3]]) out[j - j0] = -kInf;
      }
    }
  }

  static void chunk(const SdpaParams<float>& p, int64_t item, float* logit, float* partials) {
    const int64_t chunks = sdpa_decode_chunks(p);
    const int64_t row = item / chunks, c = item % chunks;
    const int64_t b = row / (p.num_heads * p.query_len), n = row / p.query_len % p.num_heads;
    const int64_t i = row % p.query_len, kv = n / (p.num_heads / p.num_kv_heads);
    int64_t j0 = c * kChunk, j1 = min(p.key_len, j0 + kChunk);
    if (p.is_causal) j1 = min(j1, i + 1);  // j <= i
    if (p.sliding_window > 0) {            // |i - j| < window
      j0 = max(j0, i - p.sliding_window + 1);
      j1 = min(j1, i + p.sliding_window);
    }
    float* part = partials + item * sdpa_decode_partial_size(p);  // m, l, o (Hv)
    part[0] = -kInf;
    part[1] = 0.0f;
    for (int64_t col = 0; col < p.value_dim; ++col) part[2 + col] = 0.0f;
    if (j0 >= j1) return;

    const int64_t keys = j1 - j0;
    logits(p, b, n, i, kv, j0, j1, logit);
    float top = -kInf;
    for (int64_t j = 0; j < keys; ++j) top = logit[j] > top ? logit[j] : top;
    if (top == -kInf) return;
    // Padding to whole vectors with -inf adds exps of 0.
    const int64_t padded = (keys + 7) / 8 * 8;
    for (int64_t j = keys; j < padded; ++j) logit[j] = -kInf;
    V sum = V::zero();
    for (int64_t j = 0; j < padded; j += 8) {
      const V e = vexp(V::load(logit + j) - V::splat(top));
      e.store(logit + j);
      sum = sum + e;
    }
    part[0] = top;
    part[1] = hsum(sum);

    if (p.dropout_rate > 0.0) {
      const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
      const uint64_t flat = static_cast<uint64_t>(row * p.key_len + j0);
      for (int64_t j = 0; j < keys; ++j) {
        logit[j] = dropout_keeps(p.dropout_key, flat + static_cast<uint64_t>(j), p.dropout_rate)
                       ? logit[j] / keep_prob
                       : 0.0f;
      }
    }

    // o = sum_j p_j value[j]                                                       (Hv,)
    const int64_t* vs = p.value_strides;
    const float* value = p.value + b * vs[0] + j0 * vs[1] + kv * vs[2];
    float* o = part + 2;
    const int64_t whole = vs[3] == 1 ? p.value_dim / 8 * 8 : 0;
    for (int64_t j = 0; j < keys; ++j) {
      const V weight = V::splat(logit[j]);
      const float* v = value + j * vs[1];
      for (int64_t col = 0; col < whole; col += 8) {
        fma(weight, V::load(v + col), V::load(o + col)).store(o + col);
      }
      for (int64_t col = whole; col < p.value_dim; ++col) o[col] += logit[j] * v[col * vs[3]];
    }
  }
};

}  // namespace kattn::kernels
