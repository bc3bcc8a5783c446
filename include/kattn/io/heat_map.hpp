// Attention heat maps as PNG images, in the style of Bahdanau et al.'s alignment figures: a
// matrix of weights in [0, 1], rows the output (query) positions and columns the input (key)
// positions, e.g. one batch item's (Tq, Tv) attention scores, drawn one square cell per weight.
//
// The image is 8-bit grayscale. A cell is filled with the gray level round(255 * w), w the
// weight clamped to [0, 1]: black for 0, white for 1, brighter for larger (the mapping is
// monotone, so the brightest cell of a row is its largest weight, up to ties). Labels are drawn
// black (0) on a white (255) margin, in the public-domain 8x8 font font8x8_basic, one 8x8 glyph
// per byte (printable ASCII; any other byte is drawn as '?').
//
// Layout, in pixels (x to the right, y down, (0, 0) the top-left corner), for a matrix of R rows
// and C columns with cell size s:
//
//   L = the longest row label's length in bytes (0 without row labels)
//   M = the longest column label's length in bytes (0 without column labels)
//   left = L > 0 ? 8 L + 4 : 0        the row labels' margin
//   top  = M > 0 ? 8 M + 4 : 0        the column labels' margin
//   width = left + C s,  height = top + R s
//
//   cell (i, j): x in [left + j s, left + (j + 1) s), y in [top + i s, top + (i + 1) s)
//   row label i: left to right, its last glyph ending 4 pixels left of the cells
//     (x in [left - 4 - 8 n, left - 4) for a label of n bytes), y from top + i s + (s - 8) / 2
//   column label j: turned 90 degrees counter-clockwise (read bottom to top), its first glyph
//     ending 4 pixels above the cells (glyph k covers y in [top - 4 - 8 (k + 1), top - 4 - 8 k)),
//     x from left + j s + (s - 8) / 2
//   everything else in the margins is white.
//
// (s - 8) / 2 is integer division; labels need s >= 8, so that each stays within its row or
// column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kattn/core/tensor.hpp"

namespace kattn {

struct HeatMapOptions {
  int64_t cell_size = 16;  // s: pixels per side of a cell, 1 to 256 (8 or more with labels)
  // One per column (input characters or tokens), drawn along the top; empty: none.
  std::vector<std::string> column_labels = {};
  // One per row (output positions), drawn along the left; empty: none.
  std::vector<std::string> row_labels = {};
};

// The bytes of the PNG file for `weights`, a float32 (rows, columns) matrix, laid out as above.
// ValueError, naming the argument, for: weights not 2-D or with no row or no column, a value
// that is not finite, a cell_size outside [1, 256] (or under 8 with labels), a label count
// that differs from the columns or rows, and an image beyond 1,000,000 pixels a side (libpng's
// default limit when reading) or 2^28 pixels in all.
std::string heat_map_png(const Tensor& weights, const HeatMapOptions& options = {});

// heat_map_png written to `path` through a temporary file beside it renamed into place
// (write_file_atomically): no partial file is ever left at `path`. FileError naming the path
// when it cannot be written.
void write_heat_map_png(const std::filesystem::path& path, const Tensor& weights,
                        const HeatMapOptions& options = {});

}  // namespace kattn
