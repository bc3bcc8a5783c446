// The items of the decode kernel (kernels/flash/sdpa_decode.hpp), written once over a
// vector type V of kWidth floats and the way E keys and values are stored
// (kernels/flash/kv_elements.hpp). Included only by the kernels/<isa>/sdpa_decode.cpp files; every
// function is a member of SdpaDecode<V, E> (see sdpa_flash_impl.hpp for why).
#pragma once

#include <cstdint>
#include <limits>

#include "kattn/core/random.hpp"
#include "kernels/flash/kv_elements.hpp"
#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/vec_exp.hpp"

namespace kattn::kernels {

template <typename V, typename E>
struct SdpaDecode {
  using Element = typename E::Type;
  static constexpr int64_t kChunk = SdpaDecodeTiles::kKeyChunk;
  static constexpr int64_t kRow = SdpaDecodeTiles::kLogitsRow;
  static constexpr int64_t kWidth = V::kWidth;
  static_assert(kRow >= kChunk + kWidth);  // room to pad a chunk's logits to whole vectors
  static constexpr float kInf = std::numeric_limits<float>::infinity();

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }

  // sum_h q[h * q_stride] k[h], four accumulators wide when q is contiguous.
  static float dot(const float* q, int64_t q_stride, const float* k, int64_t length) {
    if (q_stride != 1) {
      float sum = 0.0f;
      for (int64_t h = 0; h < length; ++h) sum += q[h * q_stride] * k[h];
      return sum;
    }
    V acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
    int64_t h = 0;
    for (; h + 4 * kWidth <= length; h += 4 * kWidth) {
      for (int64_t u = 0; u < 4; ++u) {
        acc[u] = fma(V::load(q + h + kWidth * u), V::load(k + h + kWidth * u), acc[u]);
      }
    }
    for (; h + kWidth <= length; h += kWidth) acc[0] = fma(V::load(q + h), V::load(k + h), acc[0]);
    float sum = hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
    for (; h < length; ++h) sum += q[h] * k[h];
    return sum;
  }

  // What an item covers: query position (b, i), keys [j0, j1) of chunk c, key/value heads
  // [kv0, kv1) and their query heads [n0, n1).
  struct Item {
    int64_t b, i, c, kv0, kv1, n0, n1, j0, j1;
  };

  static Item locate(const SdpaParams<float>& p, int64_t item) {
    const int64_t groups = sdpa_decode_kv_groups(p), chunks = sdpa_decode_chunks(p);
    const int64_t g = item % groups, c = item / groups % chunks;
    const int64_t position = item / groups / chunks;  // b * T + i
    const int64_t per_group = (p.num_kv_heads + groups - 1) / groups;
    const int64_t ratio = p.num_heads / p.num_kv_heads;
    Item it{position / p.query_len, position % p.query_len, c, 0, 0, 0, 0, c * kChunk, 0};
    it.kv0 = min(p.num_kv_heads, g * per_group);
    it.kv1 = min(p.num_kv_heads, it.kv0 + per_group);
    it.n0 = it.kv0 * ratio;
    it.n1 = it.kv1 * ratio;
    it.j1 = min(p.key_len, it.j0 + kChunk);
    const int64_t at = p.query_offset + it.i;     // the query's key position
    if (p.is_causal) it.j1 = min(it.j1, at + 1);  // j <= i
    if (p.sliding_window > 0) {                   // |i - j| < window
      it.j0 = max(it.j0, at - p.sliding_window + 1);
      it.j1 = min(it.j1, at + p.sliding_window);
    }
    return it;
  }

  // logits[n - n0][j - j0] = scale * q_n . key[j], key by key across the item's heads, then
  // -inf where a mask excludes (n, j). `key_row` holds one key as floats.
  static void logits(const SdpaParams<float>& p, const Item& it, float* logits, float* key_row) {
    const int64_t *qs = p.query_strides, *ks = p.key_strides;
    const int64_t ratio = p.num_heads / p.num_kv_heads;
    const Element* key = E::keys(p) + it.b * ks[0] + it.kv0 * ks[2];
    const float* query = p.query + it.b * qs[0] + it.i * qs[1];
    for (int64_t j = it.j0; j < it.j1; ++j) {
      for (int64_t kv = it.kv0; kv < it.kv1; ++kv) {
        const float* k =
            E::row(key + j * ks[1] + (kv - it.kv0) * ks[2], ks[3], p.head_dim, key_row);
        for (int64_t n = kv * ratio; n < (kv + 1) * ratio; ++n) {
          logits[(n - it.n0) * kRow + j - it.j0] =
              dot(query + n * qs[2], qs[3], k, p.head_dim) * p.scale;
        }
      }
    }
    if (p.mask == nullptr) return;
    const int64_t* ms = p.mask_strides;
    for (int64_t n = it.n0; n < it.n1; ++n) {
      const bool* row = p.mask + it.b * ms[0] + n * ms[1] + it.i * ms[2];
      for (int64_t j = it.j0; j < it.j1; ++j) {
        if (!row[j * ms[3]]) logits[(n - it.n0) * kRow + j - it.j0] = -kInf;
      }
    }
  }

  // Turns head n's logits into dropout(exp(logit - m)) and writes m and l to its partials;
  // m stays -inf when the chunk has nothing head n may attend.
  static void softmax(const SdpaParams<float>& p, const Item& it, int64_t n, float* logit,
                      float* part) {
    const int64_t keys = it.j1 - it.j0;
    float top = -kInf;
    for (int64_t j = 0; j < keys; ++j) top = logit[j] > top ? logit[j] : top;
    if (top == -kInf) return;
    // Padding to whole vectors with -inf adds exps of 0.
    const int64_t padded = (keys + kWidth - 1) / kWidth * kWidth;
    for (int64_t j = keys; j < padded; ++j) logit[j] = -kInf;
    V sum = V::zero();
    for (int64_t j = 0; j < padded; j += kWidth) {
      const V e = vexp_nonpositive(V::load(logit + j) - V::splat(top));
      e.store(logit + j);
      sum = sum + e;
    }
    part[0] = top;
    part[1] = hsum(sum);
    if (p.dropout_rate <= 0.0) return;
    const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
    const int64_t row = (it.b * p.num_heads + n) * p.query_len + it.i;
    const uint64_t flat = static_cast<uint64_t>(row * p.key_len + it.j0);
    for (int64_t j = 0; j < keys; ++j) {
      logit[j] = dropout_keeps(p.dropout_key, flat + static_cast<uint64_t>(j), p.dropout_rate)
                     ? logit[j] / keep_prob
                     : 0.0f;
    }
  }

  // `workspace`: the logits of the item's heads (kRow floats each), then one key or value row.
  static void item(const SdpaParams<float>& p, int64_t index, float* workspace, float* partials) {
    const Item it = locate(p, index);
    float* logits_buffer = workspace;
    float* row = workspace + (it.n1 - it.n0) * kRow;
    const int64_t size = sdpa_decode_partial_size(p), chunks = sdpa_decode_chunks(p);
    const auto part_of = [&](int64_t n) {  // m, l, o (Hv) of (row of n, chunk c)
      return partials + (((it.b * p.num_heads + n) * p.query_len + it.i) * chunks + it.c) * size;
    };
    for (int64_t n = it.n0; n < it.n1; ++n) {
      float* part = part_of(n);
      part[0] = -kInf;
      for (int64_t col = 1; col < size; ++col) part[col] = 0.0f;
    }
    if (it.j0 >= it.j1) return;
    logits(p, it, logits_buffer, row);
    for (int64_t n = it.n0; n < it.n1; ++n) {
      softmax(p, it, n, logits_buffer + (n - it.n0) * kRow, part_of(n));
    }

    // o_n = sum_j p_nj value[j], key by key across the item's heads           (Hv,) per head
    const int64_t* vs = p.value_strides;
    const int64_t ratio = p.num_heads / p.num_kv_heads;
    const Element* value = E::values(p) + it.b * vs[0] + it.kv0 * vs[2];
    const int64_t whole = p.value_dim / kWidth * kWidth;
    for (int64_t j = it.j0; j < it.j1; ++j) {
      for (int64_t kv = it.kv0; kv < it.kv1; ++kv) {
        const float* v = E::row(value + j * vs[1] + (kv - it.kv0) * vs[2], vs[3], p.value_dim, row);
        for (int64_t n = kv * ratio; n < (kv + 1) * ratio; ++n) {
          float* part = part_of(n);
          if (part[0] == -kInf) continue;  // nothing attended in this chunk
          const float w = logits_buffer[(n - it.n0) * kRow + j - it.j0];
          float* o = part + 2;
          const V weight = V::splat(w);
          for (int64_t col = 0; col < whole; col += kWidth) {
            fma(weight, V::load(v + col), V::load(o + col)).store(o + col);
          }
          for (int64_t col = whole; col < p.value_dim; ++col) o[col] += w * v[col];
        }
      }
    }
  }
};

// Item `index` of p, its keys and values read as they are stored.
template <typename V>
void sdpa_decode_item(const SdpaParams<float>& p, int64_t index, float* workspace,
                      float* partials) {
  if (p.key_half == nullptr) {
    SdpaDecode<V, Float32Elements<V>>::item(p, index, workspace, partials);
  } else if (p.half_format == HalfFormat::kFloat16) {
    SdpaDecode<V, HalfElements<V, HalfFormat::kFloat16>>::item(p, index, workspace, partials);
  } else {
    SdpaDecode<V, HalfElements<V, HalfFormat::kBFloat16>>::item(p, index, workspace, partials);
  }
}

}  // namespace kattn::kernels
