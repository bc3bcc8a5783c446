// What the fused attention kernels' forward (sdpa_flash_impl.hpp) and backward
// (sdpa_flash_backward_impl.hpp) share: copying rows of the strided inputs into the contiguous
// layouts the register-blocked products read, which keys a block of queries may attend, and
// masking a tile of logits. Written once over a vector type V of kWidth floats
// (kernels/<isa>/vec*.hpp) and included only by the per-ISA kernel files; a class template on V,
// so each instruction set's copy has symbols of its own.
#pragma once

#include <cstdint>
#include <limits>

#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels {

template <typename V>
struct FlashTile {
  static constexpr int64_t kPanel = 16;  // columns of a packed panel: one register block wide
  static constexpr float kInf = std::numeric_limits<float>::infinity();

  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }

  // Rows of K and V (and of Q and dO) lie a whole (heads * H)-float stride apart, too far for
  // the hardware to fetch them ahead; each copy asks for the row kAhead rows on.
  static constexpr int64_t kAhead = 4;
  static void prefetch_row(const float* row, int64_t stride, int64_t n) {
    for (int64_t h = 0; h < n; h += 16) __builtin_prefetch(row + h * stride);
  }

  // to[0 : n] = from[0 : n * stride : stride], to[n : padded] = 0.
  static void copy_row(const float* from, int64_t stride, int64_t n, float* to, int64_t padded) {
    int64_t h = 0;
    if (stride == 1) {
      for (; h + V::kWidth <= n; h += V::kWidth) V::load(from + h).store(to + h);
    }
    for (; h < n; ++h) to[h] = from[h * stride];
    for (; h < padded; ++h) to[h] = 0.0f;
  }

  // to (rows, cols) = from[r * row_stride + c * col_stride], rows contiguous.
  static void pack_rows(const float* from, int64_t row_stride, int64_t col_stride, int64_t rows,
                        int64_t cols, float* to) {
    for (int64_t r = 0; r < rows; ++r) {
      if (r + kAhead < rows) prefetch_row(from + (r + kAhead) * row_stride, col_stride, cols);
      copy_row(from + r * row_stride, col_stride, cols, to + r * cols, cols);
    }
  }

  // to (ceil(cols / 16), capacity, 16) = from[r * row_stride + c * col_stride] for r < rows,
  // zero past cols: a right-hand operand whose 16 columns are one load at each depth r.
  static void pack_panels(const float* from, int64_t row_stride, int64_t col_stride, int64_t rows,
                          int64_t cols, int64_t capacity, float* to) {
    for (int64_t c = 0; c < cols; c += kPanel) {
      const int64_t n = min(kPanel, cols - c);
      for (int64_t r = 0; r < rows; ++r) {
        if (c == 0 && r + kAhead < rows) {
          prefetch_row(from + (r + kAhead) * row_stride, col_stride, cols);
        }
        copy_row(from + r * row_stride + c * col_stride, col_stride, n,
                 to + (c * capacity + r * kPanel), kPanel);
      }
    }
  }

  // to (panels, cols, 16): to[(panel * cols + c) * 16 + lane] = scale * from[r * row_stride +
  // c * col_stride] with r = 16 panel + lane, zero for r >= rows: a block of rows transposed,
  // 16 rows to a panel, so that they run along the vector lanes of a product.
  static void pack_transposed(const float* from, int64_t row_stride, int64_t col_stride,
                              int64_t rows, int64_t panels, int64_t cols, float scale, float* to) {
    for (int64_t panel = 0; panel < panels; ++panel) {
      for (int64_t lane = 0; lane < kPanel; ++lane) {
        const int64_t r = panel * kPanel + lane;
        const float* row = from + r * row_stride;
        for (int64_t c = 0; c < cols; ++c) {
          to[(panel * cols + c) * kPanel + lane] = r < rows ? row[c * col_stride] * scale : 0.0f;
        }
      }
    }
  }

  // The keys [begin, end) that the causal and sliding-window rules let some query of
  // [q0, q0 + rows) attend; explicit masks may exclude more.
  struct KeyRange {
    int64_t begin, end;
  };
  static KeyRange attended_keys(const SdpaParams<float>& p, int64_t q0_index, int64_t rows) {
    const int64_t q0 = p.query_offset + q0_index;  // the first query's key position
    int64_t begin = 0, end = p.key_len;
    if (p.is_causal) end = min(end, q0 + rows);  // j <= i
    if (p.sliding_window > 0) {                  // |i - j| < window
      begin = min(p.key_len, max(begin, q0 - p.sliding_window + 1));
      end = min(end, q0 + rows - 1 + p.sliding_window);
    }
    return {begin, max(begin, end)};
  }

  // Whether query i of head n in batch b may attend any key at all.
  static bool attends_some_key(const SdpaParams<float>& p, int64_t b, int64_t n, int64_t i) {
    const KeyRange range = attended_keys(p, i, 1);
    if (p.mask == nullptr) return range.begin < range.end;
    const int64_t* ms = p.mask_strides;
    const bool* row = p.mask + b * ms[0] + n * ms[1] + i * ms[2];
    for (int64_t j = range.begin; j < range.end; ++j) {
      if (row[j * ms[3]]) return true;
    }
    return false;
  }

  // tile[j * stride + q] is the logit of query q0 + q against key j0 + j, for q < rows and
  // j < keys; the pairs some mask rule excludes become -inf, or logit - 1e9 with `subtract_1e9`
  // (Keras's dense-attention masking).
  // Which rules may exclude pairs of queries [q0, q0 + rows) and keys [j0, j0 + keys).
  struct TileRules {
    bool causal, window;
    bool any(const SdpaParams<float>& p) const { return p.mask != nullptr || causal || window; }
  };
  static TileRules tile_rules(const SdpaParams<float>& p, int64_t q0, int64_t rows, int64_t j0,
                              int64_t keys) {
    // i_first and i_last: key positions of the first and last query.
    const int64_t i_first = p.query_offset + q0, i_last = i_first + rows - 1;
    const int64_t j_last = j0 + keys - 1;
    return {p.is_causal && j_last > i_first,
            p.sliding_window > 0 &&
                (i_last - j0 >= p.sliding_window || j_last - i_first >= p.sliding_window)};
  }

  static void mask_tile(const SdpaParams<float>& p, int64_t b, int64_t n, int64_t q0, int64_t rows,
                        int64_t j0, int64_t keys, float* tile, int64_t stride, bool subtract_1e9) {
    const TileRules rules = tile_rules(p, q0, rows, j0, keys);
    if (!rules.any(p)) return;
    const bool causal = rules.causal, window = rules.window;
    const int64_t i_first = p.query_offset + q0;
    const int64_t* ms = p.mask_strides;
    for (int64_t j = 0; j < keys; ++j) {
      const int64_t key = j0 + j;
      const bool* mask_row =
          p.mask == nullptr ? nullptr : p.mask + b * ms[0] + n * ms[1] + key * ms[3];
      for (int64_t q = 0; q < rows; ++q) {
        const int64_t position = i_first + q;
        const bool excluded = (causal && key > position) ||
                              (window && (position - key >= p.sliding_window ||
                                          key - position >= p.sliding_window)) ||
                              (mask_row != nullptr && !mask_row[(q0 + q) * ms[2]]);
        if (!excluded) continue;
        float& logit = tile[j * stride + q];
        logit = subtract_1e9 ? logit - 1.0e9f : -kInf;
      }
    }
  }
};

}  // namespace kattn::kernels
