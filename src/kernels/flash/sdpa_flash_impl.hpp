// The fused kernel of kernels/flash/sdpa_flash.hpp, written once over a vector type V of
// kWidth floats (kernels/<isa>/vec*.hpp). Included only by the kernels/<isa>/sdpa_flash.cpp files;
// every function is a member of SdpaFlash<V>, so each instruction set's copy has symbols of its own
// and the linker never mixes code compiled for different instruction sets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "kattn/core/random.hpp"
#include "kernels/flash/flash_tile.hpp"
#include "kernels/flash/sdpa_flash_layout.hpp"
#include "kernels/flash/vec_exp.hpp"
#include "kernels/flash/vec_tanh.hpp"
#include "kernels/register_block.hpp"

namespace kattn::kernels {

template <typename V>
struct SdpaFlash {
  using L = SdpaFlashLayout;
  using Score = FlashScoring::Score;
  static constexpr int64_t kBr = L::kBr, kBc = L::kBc, kPanel = L::kPanel, kGroup = L::kGroup;
  using Registers = RegisterBlock<V>;
  using Tile = FlashTile<V>;
  static constexpr int64_t kRows = Registers::kMaxRows;  // rows of a register block, both products
  static constexpr int64_t kWidth = V::kWidth, kVectors = kPanel / kWidth;  // of a panel
  static constexpr float kInf = std::numeric_limits<float>::infinity();

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }
  static V max(V a, V b) { return vmax(a, b); }

  static V exp(V x) { return vexp_nonpositive(x); }  // x = logit - max <= 0

  // tile[r * kBr + c] = sum_h term(h, q[h * 16 + c] + key_row_r[h]) for r < R, c < 16, the
  // terms added in order of h as the reference does: R keys against one packed panel of 16
  // queries with a tanh scorer, term(h, x, acc) adding its tanh of x to acc.
  template <size_t R, typename Term>
  static void tanh_block(const float* key, int64_t head_dim, const float* q, float* tile,
                         Term term) {
    V acc[R][static_cast<size_t>(kVectors)];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      for (int64_t v = 0; v < kVectors; ++v) acc[r][v] = V::zero();
    }
    for (int64_t h = 0; h < head_dim; ++h) {
      V queries[static_cast<size_t>(kVectors)];
      for (int64_t v = 0; v < kVectors; ++v) queries[v] = V::load(q + h * kPanel + v * kWidth);
#pragma GCC unroll 8
      for (size_t r = 0; r < R; ++r) {
        const V k = V::broadcast(key + static_cast<int64_t>(r) * head_dim + h);
        for (int64_t v = 0; v < kVectors; ++v) acc[r][v] = term(h, queries[v] + k, acc[r][v]);
      }
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      for (int64_t v = 0; v < kVectors; ++v) {
        acc[r][v].store(tile + static_cast<int64_t>(r) * kBr + v * kWidth);
      }
    }
  }

  // One block of kBr query rows of an item: its coordinates, its own buffers, and the key and
  // value tiles it shares with the other blocks of the item.
  struct Block {
    const SdpaParams<float>& p;
    const FlashScoring& s;
    int64_t b, n, kv, q0, rows, panels;
    int64_t key_begin, key_end;  // keys some query of the block may attend
    int64_t value_cols;
    float *query_packed, *out, *row_max, *row_sum, *rescale;  // this block's
    float *tile, *tile_max, *key_packed, *value_packed;       // shared
    int64_t flat_row(int64_t q) const {  // index of logits[b, n, q0 + q, 0] in (B, N, T, S)
      return ((b * p.num_heads + n) * p.query_len + q0 + q) * p.key_len;
    }
  };

  static Block make_block(const SdpaParams<float>& p, const FlashScoring& s, const L& layout,
                          float* ws, int64_t b, int64_t n, int64_t block, int64_t g) {
    const int64_t q0 = block * kBr, rows = min(kBr, p.query_len - q0);
    // Keys past the masks still count when masking subtracts 1e9 (a row may be all masked).
    const typename Tile::KeyRange keys =
        s.subtract_1e9 ? typename Tile::KeyRange{0, p.key_len} : Tile::attended_keys(p, q0, rows);
    const int64_t qp = layout.query_packed_stride, os = layout.out_stride;
    return Block{p,
                 s,
                 b,
                 n,
                 n / (p.num_heads / p.num_kv_heads),
                 q0,
                 rows,
                 (rows + kPanel - 1) / kPanel,
                 keys.begin,
                 keys.end,
                 layout.value_cols,
                 ws + layout.query_packed + g * qp,
                 ws + layout.out + g * os,
                 ws + layout.row_max + g * kBr,
                 ws + layout.row_sum + g * kBr,
                 ws + layout.rescale + g * kBr,
                 ws + layout.tile,
                 ws + layout.tile_max,
                 ws + layout.key_packed,
                 ws + layout.value_packed};
  }

  // query_packed[panel][h][lane] = scale * query[b, q0 + 16 panel + lane, n, h], zero past T;
  // the tanh scorers take the query as it is.
  static void pack_queries(const Block& it) {
    const SdpaParams<float>& p = it.p;
    const float scale = it.s.score == Score::kDot ? p.scale : 1.0f;
    const int64_t* qs = p.query_strides;
    Tile::pack_transposed(p.query + it.b * qs[0] + it.q0 * qs[1] + it.n * qs[2], qs[1], qs[3],
                          it.rows, it.panels, p.head_dim, scale, it.query_packed);
  }

  // key_packed (keys, H) = key[b, j0 : j0 + keys, kv, :]
  static void pack_keys(const Block& it, int64_t j0, int64_t keys) {
    const int64_t* ks = it.p.key_strides;
    Tile::pack_rows(it.p.key + it.b * ks[0] + j0 * ks[1] + it.kv * ks[2], ks[1], ks[3], keys,
                    it.p.head_dim, it.key_packed);
  }

  // value_packed (value_cols / 16, keys, 16) = value[b, j0 : j0 + keys, kv, :], zero padded.
  static void pack_values(const Block& it, int64_t j0, int64_t keys) {
    const int64_t* vs = it.p.value_strides;
    Tile::pack_panels(it.p.value + it.b * vs[0] + j0 * vs[1] + it.kv * vs[2], vs[1], vs[3], keys,
                      it.p.value_dim, kBc, it.value_packed);
  }

  // tile[j][q] = logits of the packed keys [j0, j0 + keys) against the block's queries, masked
  // where a mask rule excludes the pair. Returns it.tile_max, each query's largest logit, when
  // the block has one and the product could fold it in (dot scores, no rule excluding a pair of
  // the tile), else null.
  static const float* logits_tile(const Block& it, int64_t j0, int64_t keys) {
    const FlashScoring& s = it.s;
    if (s.score == Score::kAdditive && s.additive_scale != nullptr) {
      const float* scale = s.additive_scale;
      tanh_tile(it, keys, [scale](int64_t h, V x, V acc) {
        return fma(V::broadcast(scale + h), vtanh(x), acc);
      });
    } else if (s.score == Score::kConcat && s.concat_scale != nullptr) {
      const V scale = V::splat(*s.concat_scale);
      tanh_tile(it, keys, [scale](int64_t, V x, V acc) { return acc + vtanh(scale * x); });
    } else if (s.score != Score::kDot) {
      tanh_tile(it, keys, [](int64_t, V x, V acc) { return acc + vtanh(x); });
    } else {
      const bool fold =
          it.tile_max != nullptr && !Tile::tile_rules(it.p, it.q0, it.rows, j0, keys).any(it.p);
      dot_tile(it, keys, fold ? it.tile_max : nullptr);
      if (fold) return it.tile_max;
    }
    if (s.score == Score::kConcat) {
      const V weight = V::splat(s.concat_score_weight);
      for (int64_t j = 0; j < keys; ++j) {
        for (int64_t c = 0; c < it.panels * kPanel; c += kWidth) {
          float* cell = it.tile + j * kBr + c;
          (weight * V::load(cell)).store(cell);
        }
      }
    }
    mask_tile(it, j0, keys);
    return nullptr;
  }

  template <typename Term>
  static void tanh_tile(const Block& it, int64_t keys, Term term) {
    const int64_t H = it.p.head_dim;
    for (int64_t j = 0; j < keys; j += 2) {
      for (int64_t panel = 0; panel < it.panels; ++panel) {
        const float* q = it.query_packed + panel * H * kPanel;
        float* out = it.tile + j * kBr + panel * kPanel;
        const float* k = it.key_packed + j * H;
        if (j + 1 < keys) {
          tanh_block<2>(k, H, q, out, term);
        } else {
          tanh_block<1>(k, H, q, out, term);
        }
      }
    }
  }

  // The dot-product logits; with tile_max, also each query's largest.
  static void dot_tile(const Block& it, int64_t keys, float* tile_max) {
    const int64_t H = it.p.head_dim;
    const float* packed = it.key_packed;
    float* tile = it.tile;
    if (tile_max != nullptr) {
      for (int64_t c = 0; c < it.panels * kPanel; ++c) tile_max[c] = -kInf;
    }
    for (int64_t j = 0; j < keys; j += kRows) {
      const int64_t rows = min(kRows, keys - j);
      for (int64_t panel = 0; panel < it.panels; ++panel) {
        const float* q = it.query_packed + panel * H * kPanel;
        float* out = tile + j * kBr + panel * kPanel;
        const float* k = packed + j * H;
        // tile[j + r][c] = sum_h key[j + r][h] * q[h][c]
        Registers::template multiply_rows<false>(rows, k, H, 1, q, kPanel, H, out, kBr,
                                                 tile_max ? tile_max + panel * kPanel : nullptr);
      }
    }
  }

  static void mask_tile(const Block& it, int64_t j0, int64_t keys) {
    Tile::mask_tile(it.p, it.b, it.n, it.q0, it.rows, j0, keys, it.tile, kBr, it.s.subtract_1e9);
  }

  // Folds the tile's logits into row_max / row_sum, taking the tile's maxima from tile_max when
  // logits_tile gave them. With `probabilities`, also turns the tile into exp(logit - new max)
  // and leaves exp(old max - new max) in rescale.
  static void online_softmax(const Block& it, int64_t keys, const float* tile_max,
                             bool probabilities) {
    const float* tile = it.tile;
    for (int64_t c = 0; c < it.rows; c += kWidth) {
      const V old_max = V::load(it.row_max + c);
      V new_max = old_max;
      if (tile_max != nullptr) {
        new_max = max(new_max, V::load(tile_max + c));
      } else {
        for (int64_t j = 0; j < keys; ++j) new_max = max(new_max, V::load(tile + j * kBr + c));
      }
      // A query with nothing allowed yet keeps max -inf; shifting by 0 keeps its exps at 0.
      const V shift = select_equal(new_max, V::splat(-kInf), V::zero(), new_max);
      V sum = V::zero();
      for (int64_t j = 0; j < keys; ++j) {
        const V e = exp(V::load(tile + j * kBr + c) - shift);
        if (probabilities) e.store(it.tile + j * kBr + c);
        sum = sum + e;
      }
      const V rescale = exp(old_max - shift);
      fma(V::load(it.row_sum + c), rescale, sum).store(it.row_sum + c);
      new_max.store(it.row_max + c);
      rescale.store(it.rescale + c);
    }
  }

  // Keras's dropout on the probabilities of the tile: element (b, n, i, j) kept or zeroed by
  // dropout_keeps at its index in (B, N, T, S), kept ones divided by 1 - rate
  // as Keras's dropout does.
  static void dropout_tile(const Block& it, int64_t j0, int64_t keys) {
    const SdpaParams<float>& p = it.p;
    const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
    float* tile = it.tile;
    for (int64_t q = 0; q < it.rows; ++q) {
      const uint64_t row = static_cast<uint64_t>(it.flat_row(q) + j0);
      for (int64_t j = 0; j < keys; ++j) {
        float& e = tile[j * kBr + q];
        e = dropout_keeps(p.dropout_key, row + static_cast<uint64_t>(j), p.dropout_rate)
                ? e / keep_prob
                : 0.0f;
      }
    }
  }

  // out (rows, value_cols) += P (rows, keys) . value_packed
  static void accumulate_values(const Block& it, int64_t keys) {
    const int64_t cols = it.value_cols;
    const float* packed = it.value_packed;
    const float* tile = it.tile;
    // Panel by panel, so that each panel of values stays in L1 for every row group.
    for (int64_t c = 0; c < cols; c += kPanel) {
      const float* v = packed + c * kBc;
      for (int64_t q = 0; q < it.rows; q += kRows) {
        const int64_t rows = min(kRows, it.rows - q);
        float* out = it.out + q * cols + c;
        // out[q + r][c] += sum_j tile[j][q + r] * v[j][c]
        Registers::template multiply_rows<true>(rows, tile + q, 1, kBr, v, kPanel, keys, out, cols);
      }
    }
  }

  // out *= rescale, row by row; rows whose max held (rescale 1) as they are.
  static void rescale_out(const Block& it) {
    const int64_t cols = it.value_cols;
    for (int64_t q = 0; q < it.rows; ++q) {
      if (it.rescale[q] == 1.0f) continue;
      const V factor = V::broadcast(it.rescale + q);
      float* row = it.out + q * cols;
      for (int64_t c = 0; c < cols; c += kWidth) (V::load(row + c) * factor).store(row + c);
    }
  }

  // output[b, q0 + q, n, :] = out[q, :] * (1 / row_sum[q] when `normalise`), and
  // logsumexp[b, n, q0 + q] = row_max[q] + log(row_sum[q]) when asked for: -inf for a row that
  // attends no key (max -inf, sum 0), which is how the backward tells those rows apart.
  static void write_output(const Block& it, bool normalise) {
    const SdpaParams<float>& p = it.p;
    const int64_t* os = p.output_strides;
    const bool* query_mask = it.s.query_mask;
    for (int64_t q = 0; q < it.rows; ++q) {
      if (p.logsumexp != nullptr) {
        const int64_t row = (it.b * p.num_heads + it.n) * p.query_len + it.q0 + q;
        if (it.s.row_max != nullptr) {
          it.s.row_max[row] = it.row_max[q];
          p.logsumexp[row] = sdpa_row_logsumexp(0.0f, it.row_sum[q]);
        } else {
          p.logsumexp[row] = sdpa_row_logsumexp(it.row_max[q], it.row_sum[q]);
        }
      }
      if (it.row_max[q] == -kInf && !it.s.subtract_1e9) {
        sdpa_fully_masked_row(p, it.b, it.n, it.q0 + q);
        continue;
      }
      float factor = normalise ? 1.0f / it.row_sum[q] : 1.0f;
      if (query_mask != nullptr && !query_mask[it.b * p.query_len + it.q0 + q]) factor *= 0.0f;
      const float* row = it.out + q * it.value_cols;
      float* out = p.output + it.b * os[0] + (it.q0 + q) * os[1] + it.n * os[2];
      for (int64_t c = 0; c < p.value_dim; ++c) out[c * os[3]] = row[c] * factor;
    }
  }

  static void start(const Block& it) {
    pack_queries(it);
    for (int64_t q = 0; q < kBr; ++q) {
      it.row_max[q] = -kInf;
      it.row_sum[q] = 0.0f;
    }
    const int64_t cells = kBr * it.value_cols;
    for (int64_t i = 0; i < cells; ++i) it.out[i] = 0.0f;
  }

  // Whether the keys [j0, j0 + keys) include some the block may attend.
  static bool reaches(const Block& it, int64_t j0, int64_t keys) {
    return j0 < it.key_end && j0 + keys > it.key_begin;
  }

  // One pass: online softmax, the output rescaled as the max grows.
  static void forward_output_only(const Block* blocks, int64_t count, int64_t begin, int64_t end) {
    for (int64_t j0 = begin; j0 < end; j0 += kBc) {
      const int64_t keys = min(kBc, end - j0);
      pack_keys(blocks[0], j0, keys);
      pack_values(blocks[0], j0, keys);
      for (int64_t g = 0; g < count; ++g) {
        const Block& it = blocks[g];
        if (!reaches(it, j0, keys)) continue;
        online_softmax(it, keys, logits_tile(it, j0, keys), true);
        if (it.p.dropout_rate > 0.0) dropout_tile(it, j0, keys);
        rescale_out(it);
        accumulate_values(it, keys);
      }
    }
    for (int64_t g = 0; g < count; ++g) write_output(blocks[g], true);
  }

  // Two passes: the final max and sum of every row first, then the probabilities, written to
  // params.scores once and accumulated into the output.
  static void forward_with_scores(const Block* blocks, int64_t count, int64_t begin, int64_t end) {
    const SdpaParams<float>& p = blocks[0].p;
    for (int64_t j0 = begin; j0 < end; j0 += kBc) {
      const int64_t keys = min(kBc, end - j0);
      pack_keys(blocks[0], j0, keys);
      for (int64_t g = 0; g < count; ++g) {
        if (!reaches(blocks[g], j0, keys)) continue;
        online_softmax(blocks[g], keys, logits_tile(blocks[g], j0, keys), false);
      }
    }
    for (int64_t g = 0; g < count; ++g) {
      const Block& it = blocks[g];
      for (int64_t q = 0; q < it.rows; ++q) {
        // Keys no rule lets the block attend have probability 0.
        float* scores = p.scores + it.flat_row(q);
        for (int64_t j = 0; j < it.key_begin; ++j) scores[j] = 0.0f;
        for (int64_t j = it.key_end; j < p.key_len; ++j) scores[j] = 0.0f;
      }
    }
    for (int64_t j0 = begin; j0 < end; j0 += kBc) {
      const int64_t keys = min(kBc, end - j0);
      pack_keys(blocks[0], j0, keys);
      pack_values(blocks[0], j0, keys);
      for (int64_t g = 0; g < count; ++g) {
        const Block& it = blocks[g];
        if (!reaches(it, j0, keys)) continue;
        logits_tile(it, j0, keys);
        float* tile = it.tile;
        for (int64_t c = 0; c < it.rows; c += kWidth) {
          const V row_max = V::load(it.row_max + c);
          const V shift = select_equal(row_max, V::splat(-kInf), V::zero(), row_max);
          // Rows with nothing allowed are rewritten by sdpa_fully_masked_row; 0 keeps them
          // finite.
          const V inverse = reciprocal(V::load(it.row_sum + c));
          for (int64_t j = 0; j < keys; ++j) {
            (exp(V::load(tile + j * kBr + c) - shift) * inverse).store(tile + j * kBr + c);
          }
        }
        const bool dropout = p.dropout_rate > 0.0;
        if (dropout && it.s.scores_after_dropout) dropout_tile(it, j0, keys);
        // Scores of this tile the block does not reach stay as zeroed above.
        const int64_t from = max(j0, it.key_begin), to = min(j0 + keys, it.key_end);
        for (int64_t q = 0; q < it.rows; ++q) {
          float* scores = p.scores + it.flat_row(q);
          for (int64_t j = from; j < to; ++j) scores[j] = tile[(j - j0) * kBr + q];
        }
        if (dropout && !it.s.scores_after_dropout) dropout_tile(it, j0, keys);
        accumulate_values(it, keys);
      }
    }
    for (int64_t g = 0; g < count; ++g) write_output(blocks[g], false);
  }

  static V reciprocal(V x) {
    float lanes[static_cast<size_t>(kWidth)];
    x.store(lanes);
    for (float& lane : lanes) lane = lane == 0.0f ? 0.0f : 1.0f / lane;
    return V::load(lanes);
  }

  template <typename Slot, size_t... G>
  static std::array<Block, kGroup> slots(const Slot& slot, std::index_sequence<G...>) {
    return {slot(static_cast<int64_t>(G))...};
  }

  // Item `item`: up to kGroup consecutive query blocks of one (batch, head), latest first, which
  // share every packed key and value tile.
  static void forward(const SdpaParams<float>& p, const FlashScoring& s, int64_t item,
                      float* workspace) {
    const L layout = sdpa_flash_layout(p);
    const int64_t heads = p.batch * p.num_heads;
    const int64_t group = layout.groups - 1 - item / heads;
    const int64_t b = item % heads / p.num_heads, n = item % p.num_heads;
    const int64_t first = group * kGroup, count = min(kGroup, layout.query_blocks - first);
    // Slots past `count` repeat the last block and are never used.
    const auto slot = [&](int64_t g) {
      return make_block(p, s, layout, workspace, b, n, first + min(g, count - 1), g);
    };
    std::array<Block, kGroup> all = slots(slot, std::make_index_sequence<kGroup>());
    const Block* blocks = all.data();
    int64_t begin = p.key_len, end = 0;
    for (int64_t g = 0; g < count; ++g) {
      start(blocks[g]);
      begin = min(begin, blocks[g].key_begin);
      end = max(end, blocks[g].key_end);
    }
    if (p.scores != nullptr) {
      forward_with_scores(blocks, count, begin, end);
    } else {
      forward_output_only(blocks, count, begin, end);
    }
  }
};

}  // namespace kattn::kernels
