// The fused backward of kernels/flash/sdpa_flash_backward.hpp, written once over a vector type
// V of kWidth floats (kernels/<isa>/vec*.hpp). Included only by the
// kernels/<isa>/sdpa_flash_backward.cpp files; every function is a member of
// SdpaFlashBackward<V> (see sdpa_flash_impl.hpp for why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "kattn/core/random.hpp"
#include "kernels/flash/flash_tile.hpp"
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "kernels/flash/sdpa_flash_impl.hpp"
#include "kernels/flash/vec_exp.hpp"
#include "kernels/flash/vec_tanh.hpp"
#include "kernels/register_block.hpp"

namespace kattn::kernels {

template <typename V>
struct SdpaFlashBackward {
  using L = SdpaFlashBackwardLayout;
  using Tile = FlashTile<V>;
  using Registers = RegisterBlock<V>;
  using Forward = SdpaFlash<V>;
  using Score = FlashScoring::Score;
  static constexpr int64_t kBr = L::kBr, kBc = L::kBc, kPanel = L::kPanel;
  static constexpr int64_t kRows = Registers::kMaxRows;
  static constexpr int64_t kWidth = V::kWidth, kVectors = kPanel / kWidth;  // of a panel
  static_assert(kWidth <= L::kMaxLanes);
  static constexpr float kInf = std::numeric_limits<float>::infinity();

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }

  static void put(float& to, float x, bool accumulate) { to = accumulate ? to + x : x; }

  // Step 1: query block `block` = (b * N + n) * query_blocks + qb.
  static void prepare(const SdpaParams<float>& p, const FlashScoring& s,
                      const SdpaForwardSaved& saved, const SdpaGradParams<float>& g, int64_t block,
                      float* shared, float* ws) {
    const L layout = sdpa_flash_backward_layout(p);
    const int64_t bn = block / layout.query_blocks, qb = block % layout.query_blocks;
    const int64_t b = bn / p.num_heads, n = bn % p.num_heads;
    const int64_t q0 = qb * kBr, rows = min(kBr, p.query_len - q0);
    const int64_t H = p.head_dim, Hv = p.value_dim;
    const int64_t *qs = p.query_strides, *ds = g.d_output_strides, *os = saved.output_strides;
    float* packed = shared + block * layout.block_stride;

    // The products' operands, packed once for every key block that reads them.
    const float* query = p.query + b * qs[0] + q0 * qs[1] + n * qs[2];
    const float* d_out = g.d_output + b * ds[0] + q0 * ds[1] + n * ds[2];
    const int64_t panels = (rows + kPanel - 1) / kPanel;
    // The tanh scorers take the query as it is (SdpaFlash::pack_queries).
    const float scale = s.score == Score::kDot ? p.scale : 1.0f;
    Tile::pack_transposed(query, qs[1], qs[3], rows, panels, H, scale, packed + layout.query_t);
    Tile::pack_panels(query, qs[1], qs[3], rows, H, kBr, packed + layout.query);
    Tile::pack_transposed(d_out, ds[1], ds[3], rows, panels, Hv, 1.0f, packed + layout.d_output_t);
    Tile::pack_panels(d_out, ds[1], ds[3], rows, Hv, kBr, packed + layout.d_output);

    // D[q] = sum_h O[q][h] * dO[q][h] = sum_j P_j dP_j, the softmax backward's row term, added
    // in the order and with the rounding of the dP product: where a row attends a single key, O
    // is that key's value and dP - D is exactly 0, as in the reference.
    float* row_dot = packed + layout.row_dot;
    float* output_t = ws + layout.output_t;
    Tile::pack_transposed(saved.output + b * os[0] + q0 * os[1] + n * os[2], os[1], os[3], rows,
                          panels, Hv, 1.0f, output_t);
    const float* d_output_t = packed + layout.d_output_t;
    for (int64_t c = 0; c < panels * kPanel; c += kWidth) {
      const int64_t panel = c / kPanel, lane = c % kPanel;
      V sum = V::zero();
      for (int64_t h = 0; h < Hv; ++h) {
        const int64_t at = (panel * Hv + h) * kPanel + lane;
        sum = fma(V::load(output_t + at), V::load(d_output_t + at), sum);
      }
      sum.store(row_dot + c);
    }
    for (int64_t q = panels * kPanel; q < kBr; ++q) row_dot[q] = 0.0f;

    // P = exp(logit - logsumexp) is 0 in every row with shift +inf: the rows past T, those
    // that may attend no key (whose saved value depends on the kernel that wrote it) and those
    // the query mask multiplies by 0, which pass no gradient on. Under Keras's `logit - 1e9`
    // masking every row attends every key.
    float* shift = packed + layout.logsumexp;
    float* row_max = packed + layout.row_max;
    const int64_t row0 = (b * p.num_heads + n) * p.query_len + q0;
    const float* lse = saved.logsumexp + row0;
    for (int64_t q = 0; q < kBr; ++q) {
      row_max[q] = saved.row_max != nullptr && q < rows ? saved.row_max[row0 + q] : 0.0f;
      const bool kept =
          q < rows && (s.query_mask == nullptr || s.query_mask[b * p.query_len + q0 + q]);
      const bool attends = kept && (s.subtract_1e9 || Tile::attends_some_key(p, b, n, q0 + q));
      shift[q] = attends ? lse[q] : kInf;
    }

    const int64_t chunk_stride =
        p.batch * p.num_heads * layout.query_blocks * kBr * layout.head_cols;
    float* partial = shared + layout.partial_d_query + block * kBr * layout.head_cols;
    for (int64_t c = 0; c < layout.chunks; ++c) {
      float* rows_of_chunk = partial + c * chunk_stride;
      for (int64_t i = 0; i < kBr * layout.head_cols; ++i) rows_of_chunk[i] = 0.0f;
    }
  }

  // What step 2 works on for one key block: its coordinates and every buffer.
  struct KeyBlock {
    const SdpaParams<float>& p;
    const FlashScoring& s;
    const L& layout;
    int64_t b, kv, chunk, j0, keys;
    float* shared;
    float *key_rows, *key_panels, *value_rows, *probs, *d_scores, *d_key, *d_value, *weight_sums;
  };

  // One query block (b, n, qb) against the key block: everything but the fully masked rows.
  static void tile(const KeyBlock& kb, int64_t n, int64_t qb) {
    const SdpaParams<float>& p = kb.p;
    const L& layout = kb.layout;
    const int64_t Hv = p.value_dim, keys = kb.keys;
    const int64_t q0 = qb * kBr, rows = min(kBr, p.query_len - q0);
    const int64_t panels = (rows + kPanel - 1) / kPanel;
    const int64_t block = (kb.b * p.num_heads + n) * layout.query_blocks + qb;
    const float* packed = kb.shared + block * layout.block_stride;
    float* probs = kb.probs;
    float* d_scores = kb.d_scores;

    // logits^T[j][q] = score(key[j], query[q]), masked: the forward's own code on the same
    // packed layouts (keys (keys, H) rows, queries (kBr / 16, H, 16)), so that P sums to 1.
    float* query_t = kb.shared + block * layout.block_stride + layout.query_t;
    const typename Forward::Block logits{
        p, kb.s,    kb.b,    n,       kb.kv,   q0,      rows,  panels,  0,           0,
        0, query_t, nullptr, nullptr, nullptr, nullptr, probs, nullptr, kb.key_rows, nullptr};
    Forward::logits_tile(logits, kb.j0, keys);

    // P^T[j][q] = exp((logits^T[j][q] - max[q]) - logsumexp[q]): the forward's probabilities
    const float* shift = packed + layout.logsumexp;
    const float* row_max = packed + layout.row_max;
    for (int64_t j = 0; j < keys; ++j) {
      for (int64_t c = 0; c < panels * kPanel; c += kWidth) {
        float* cell = probs + j * kBr + c;
        vexp(V::load(cell) - V::load(row_max + c) - V::load(shift + c)).store(cell);
      }
    }

    // dP^T[j][q] = sum_h value[j][h] * dO[q][h], dropped below as the forward dropped P
    const float* d_output_t = packed + layout.d_output_t;
    for (int64_t j = 0; j < keys; j += kRows) {
      const int64_t r = min(kRows, keys - j);
      for (int64_t panel = 0; panel < panels; ++panel) {
        Registers::template multiply_rows<false>(r, kb.value_rows + j * Hv, Hv, 1,
                                                 d_output_t + panel * Hv * kPanel, kPanel, Hv,
                                                 d_scores + j * kBr + panel * kPanel, kBr);
      }
    }

    // dS^T = P^T * (dropout(dP^T) - D), then P^T becomes dropout(P^T) for dV.
    const float* row_dot = packed + layout.row_dot;
    if (p.dropout_rate > 0.0) {
      dropout_scores(kb, n, q0, rows, row_dot);
    } else {
      for (int64_t j = 0; j < keys; ++j) {
        for (int64_t c = 0; c < panels * kPanel; c += kWidth) {
          float* cell = d_scores + j * kBr + c;
          (V::load(probs + j * kBr + c) * (V::load(cell) - V::load(row_dot + c))).store(cell);
        }
      }
    }

    // dV[j][c] += sum_q dropout(P)^T[j][q] * dO[q][c]                          (keys, Hv)
    const float* d_output = packed + layout.d_output;
    const int64_t value_cols = layout.value_cols;
    for (int64_t c = 0; c < value_cols; c += kPanel) {
      for (int64_t j = 0; j < keys; j += kRows) {
        Registers::template multiply_rows<true>(min(kRows, keys - j), probs + j * kBr, kBr, 1,
                                                d_output + c * kBr, kPanel, rows,
                                                kb.d_value + j * value_cols + c, value_cols);
      }
    }

    const int64_t head_cols = layout.head_cols;
    const int64_t chunk_stride = p.batch * p.num_heads * layout.query_blocks * kBr * head_cols;
    float* d_query =
        kb.shared + layout.partial_d_query + kb.chunk * chunk_stride + block * kBr * head_cols;
    if (kb.s.score != Score::kDot) {
      if (kb.s.score == Score::kAdditive) {
        tanh_gradients<true>(kb, query_t, panels, d_query);
      } else {
        tanh_gradients<false>(kb, query_t, panels, d_query);
      }
      return;
    }

    // dK[j][c] += sum_q dS^T[j][q] * Q[q][c]                                   (keys, H)
    const float* query = packed + layout.query;
    for (int64_t c = 0; c < head_cols; c += kPanel) {
      for (int64_t j = 0; j < keys; j += kRows) {
        Registers::template multiply_rows<true>(min(kRows, keys - j), d_scores + j * kBr, kBr, 1,
                                                query + c * kBr, kPanel, rows,
                                                kb.d_key + j * head_cols + c, head_cols);
      }
    }

    // dQ_chunk[q][c] += sum_j dS^T[j][q] * K[j][c]                             (queries, H)
    for (int64_t c = 0; c < head_cols; c += kPanel) {
      for (int64_t q = 0; q < rows; q += kRows) {
        Registers::template multiply_rows<true>(min(kRows, rows - q), d_scores + q, 1, kBr,
                                                kb.key_panels + c * kBc, kPanel, keys,
                                                d_query + q * head_cols + c, head_cols);
      }
    }
  }

  // Keras's dropout on the tile, element (b, n, i, j) kept by dropout_keeps at its index in
  // (B, N, T, S) as the forward keeps it: dS^T = P^T * (dropout(dP^T) - D), P^T = dropout(P^T).
  static void dropout_scores(const KeyBlock& kb, int64_t n, int64_t q0, int64_t rows,
                             const float* row_dot) {
    const SdpaParams<float>& p = kb.p;
    const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
    for (int64_t q = 0; q < rows; ++q) {
      const int64_t flat = ((kb.b * p.num_heads + n) * p.query_len + q0 + q) * p.key_len + kb.j0;
      for (int64_t j = 0; j < kb.keys; ++j) {
        const bool keep =
            dropout_keeps(p.dropout_key, static_cast<uint64_t>(flat + j), p.dropout_rate);
        float& prob = kb.probs[j * kBr + q];
        float& d_score = kb.d_scores[j * kBr + q];
        d_score = prob * ((keep ? d_score / keep_prob : 0.0f) - row_dot[q]);
        prob = keep ? prob / keep_prob : 0.0f;
      }
    }
  }

  // Under kUniform a row that may attend no key took the mean of all S values (dropped as the
  // forward dropped them): dV[j] += dropout(1 / S) * dO of each such row of head n.
  static void fully_masked_rows(const KeyBlock& kb, int64_t n) {
    const SdpaParams<float>& p = kb.p;
    const L& layout = kb.layout;
    const float share = 1.0f / static_cast<float>(p.key_len);
    const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
    for (int64_t qb = 0; qb < layout.query_blocks; ++qb) {
      const int64_t block = (kb.b * p.num_heads + n) * layout.query_blocks + qb;
      const float* packed = kb.shared + block * layout.block_stride;
      const float* shift = packed + layout.logsumexp;
      const int64_t q0 = qb * kBr, rows = min(kBr, p.query_len - q0);
      for (int64_t q = 0; q < rows; ++q) {
        if (shift[q] != kInf) continue;
        const int64_t flat = ((kb.b * p.num_heads + n) * p.query_len + q0 + q) * p.key_len;
        const float* d_out = packed + layout.d_output + q * kPanel;  // column c at c * kBr + c % 16
        for (int64_t j = 0; j < kb.keys; ++j) {
          float weight = share;
          if (p.dropout_rate > 0.0) {
            const uint64_t index = static_cast<uint64_t>(flat + kb.j0 + j);
            weight = dropout_keeps(p.dropout_key, index, p.dropout_rate) ? share / keep_prob : 0.0f;
          }
          float* d_value = kb.d_value + j * layout.value_cols;
          for (int64_t c = 0; c < p.value_dim; ++c) {
            d_value[c] += weight * d_out[c / kPanel * kPanel * kBr + c % kPanel];
          }
        }
      }
    }
  }

  // The tanh scorers' dK, dQ and weight gradients from the tile's dS^T (keys, queries), tanh
  // recomputed (see sdpa_flash_backward.hpp); Additive: w = additive_scale_h (or 1), c = 1;
  // concat: w = concat_score_weight, c = concat_scale (or 1). dQ^T: (kBr / 16, H, 16).
  template <bool Additive>
  static void tanh_gradients(const KeyBlock& kb, const float* query_t, int64_t panels,
                             float* d_query_t) {
    const FlashScoring& s = kb.s;
    const int64_t H = kb.p.head_dim, head_cols = kb.layout.head_cols;
    const float* additive_scale = Additive ? s.additive_scale : nullptr;
    const V c = V::splat(!Additive && s.concat_scale != nullptr ? *s.concat_scale : 1.0f);
    const V w = V::splat(Additive ? 1.0f : s.concat_score_weight);
    const V one = V::splat(1.0f);
    float* sums = kb.weight_sums;  // (H + 2, kWidth): d additive_scale, d concat_scale, d weight
    for (int64_t j = 0; j < kb.keys; ++j) {
      const float* key = kb.key_rows + j * H;
      float* d_key = kb.d_key + j * head_cols;
      for (int64_t panel = 0; panel < panels; ++panel) {
        const float* q = query_t + panel * H * kPanel;
        float* d_q = d_query_t + panel * H * kPanel;
        const float* d_scores = kb.d_scores + j * kBr + panel * kPanel;
        V d_score[static_cast<size_t>(kVectors)];
        for (int64_t v = 0; v < kVectors; ++v) d_score[v] = V::load(d_scores + v * kWidth);
        V d_c = V::zero(), d_w = V::zero();
        for (int64_t h = 0; h < H; ++h) {
          const V k = V::broadcast(key + h);
          const V w_h = additive_scale != nullptr ? V::broadcast(additive_scale + h) : w;
          V d_k = V::zero();
          for (int64_t v = 0; v < kVectors; ++v) {
            float* d_q_h = d_q + h * kPanel + v * kWidth;
            const V x = V::load(q + h * kPanel + v * kWidth) + k;
            const V t = vtanh(c * x);
            const V u = d_score[v] * w_h * (one - t * t);
            const V grad = u * c;
            (V::load(d_q_h) + grad).store(d_q_h);
            d_k = d_k + grad;
            if (Additive) {
              fma(d_score[v], t, V::load(sums + h * kWidth)).store(sums + h * kWidth);
            } else {
              d_c = fma(u, x, d_c);
              d_w = fma(d_score[v], t, d_w);
            }
          }
          d_key[h] += hsum(d_k);
        }
        if (!Additive) {
          (V::load(sums + H * kWidth) + d_c).store(sums + H * kWidth);
          (V::load(sums + (H + 1) * kWidth) + d_w).store(sums + (H + 1) * kWidth);
        }
      }
    }
  }

  // Step 2: item = (chunk * B + b) * K + kv.
  static void keys(const SdpaParams<float>& p, const FlashScoring& s,
                   const SdpaGradParams<float>& g, bool accumulate, int64_t item, float* shared,
                   float* ws) {
    const L layout = sdpa_flash_backward_layout(p);
    const int64_t pairs = p.batch * p.num_kv_heads;
    const int64_t chunk = item / pairs, b = item % pairs / p.num_kv_heads;
    const int64_t kv = item % p.num_kv_heads, group = p.num_heads / p.num_kv_heads;
    const int64_t H = p.head_dim, Hv = p.value_dim;
    const int64_t *ks = p.key_strides, *vs = p.value_strides;
    // Under Keras's `logit - 1e9` masking no row is fully masked and no key out of reach.
    const bool uniform = p.fully_masked_rows == FullyMaskedRows::kUniform && !s.subtract_1e9;
    const float key_scale = s.score == Score::kDot ? p.scale : 1.0f;
    float* weight_sums = ws + layout.weight_sums;
    for (int64_t i = 0; i < layout.weight_cols * kWidth; ++i) weight_sums[i] = 0.0f;
    for (int64_t key_block = chunk; key_block < layout.key_blocks; key_block += layout.chunks) {
      const int64_t j0 = key_block * kBc;
      const KeyBlock kb{p,
                        s,
                        layout,
                        b,
                        kv,
                        chunk,
                        j0,
                        min(kBc, p.key_len - j0),
                        shared,
                        ws + layout.key_rows,
                        ws + layout.key_panels,
                        ws + layout.value_rows,
                        ws + layout.probs,
                        ws + layout.d_scores,
                        ws + layout.d_key,
                        ws + layout.d_value,
                        weight_sums};
      const float* key = p.key + b * ks[0] + j0 * ks[1] + kv * ks[2];
      const float* value = p.value + b * vs[0] + j0 * vs[1] + kv * vs[2];
      Tile::pack_rows(key, ks[1], ks[3], kb.keys, H, kb.key_rows);
      Tile::pack_panels(key, ks[1], ks[3], kb.keys, H, kBc, kb.key_panels);
      Tile::pack_rows(value, vs[1], vs[3], kb.keys, Hv, kb.value_rows);
      for (int64_t i = 0; i < kBc * layout.head_cols; ++i) kb.d_key[i] = 0.0f;
      for (int64_t i = 0; i < kBc * layout.value_cols; ++i) kb.d_value[i] = 0.0f;

      for (int64_t n = kv * group; n < (kv + 1) * group; ++n) {
        for (int64_t qb = 0; qb < layout.query_blocks; ++qb) {
          const int64_t q0 = qb * kBr;
          const typename Tile::KeyRange range =
              s.subtract_1e9 ? typename Tile::KeyRange{0, p.key_len}
                             : Tile::attended_keys(p, q0, min(kBr, p.query_len - q0));
          if (j0 < range.end && j0 + kb.keys > range.begin) tile(kb, n, qb);
        }
        if (uniform) fully_masked_rows(kb, n);
      }

      // d_key[b, j0 + j, kv, :] = scale * dK[j], d_value[b, j0 + j, kv, :] = dV[j] (contiguous)
      for (int64_t j = 0; j < kb.keys; ++j) {
        float* d_key = g.d_key + ((b * p.key_len + j0 + j) * p.num_kv_heads + kv) * H;
        float* d_value = g.d_value + ((b * p.key_len + j0 + j) * p.num_kv_heads + kv) * Hv;
        for (int64_t h = 0; h < H; ++h) {
          put(d_key[h], key_scale * kb.d_key[j * layout.head_cols + h], accumulate);
        }
        for (int64_t h = 0; h < Hv; ++h) {
          put(d_value[h], kb.d_value[j * layout.value_cols + h], accumulate);
        }
      }
    }
    float* partials = shared + layout.weight_partials + item * layout.weight_cols;
    for (int64_t r = 0; r < layout.weight_cols; ++r) {
      partials[r] = hsum(V::load(weight_sums + r * kWidth));
    }
  }
};

}  // namespace kattn::kernels
