// PNG heat maps: the written file decoded with libpng, its size and every cell where
// heat_map.hpp's layout puts them, the labels' glyphs, and the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "io/font8x8_basic.hpp"
#include "io/io_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/heat_map.hpp"
#include "png_test_util.hpp"

namespace kattn {
namespace {

using testing::decode_gray_png;
using testing::expect_error;
using testing::GrayImage;

// heat_map.hpp's margins.
int64_t margin(const std::vector<std::string>& labels) {
  size_t longest = 0;
  for (const std::string& label : labels) longest = std::max(longest, label.size());
  return longest > 0 ? 8 * static_cast<int64_t>(longest) + 4 : 0;
}

// Softmax rows of random logits: weights as attention gives them.
Tensor softmax_rows(int64_t rows, int64_t columns, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> logit(0.0F, 2.0F);
  Tensor weights({rows, columns});
  for (int64_t i = 0; i < rows; ++i) {
    float sum = 0;
    for (int64_t j = 0; j < columns; ++j) sum += weights(i, j) = std::exp(logit(generator));
    for (int64_t j = 0; j < columns; ++j) weights(i, j) /= sum;
  }
  return weights;
}

// Every cell is one gray, round(255 w), at the documented place; in each row the brightest
// cell is the largest weight.
void expect_cells(const GrayImage& image, const Tensor& weights, const HeatMapOptions& options) {
  const int64_t rows = weights.dim(0), columns = weights.dim(1), s = options.cell_size;
  const int64_t left = margin(options.row_labels), top = margin(options.column_labels);
  ASSERT_EQ(image.width, left + columns * s);
  ASSERT_EQ(image.height, top + rows * s);
  for (int64_t i = 0; i < rows; ++i) {
    int64_t largest = 0, brightest = 0;
    for (int64_t j = 0; j < columns; ++j) {
      const float w = std::clamp(weights(i, j), 0.0F, 1.0F);
      const auto gray = static_cast<uint8_t>(std::lround(255.0F * w));
      for (int64_t y = top + i * s; y < top + (i + 1) * s; ++y) {
        for (int64_t x = left + j * s; x < left + (j + 1) * s; ++x) {
          ASSERT_EQ(image.at(x, y), gray)
              << "cell (" << i << ", " << j << ") at " << x << ", " << y;
        }
      }
      if (weights(i, j) > weights(i, largest)) largest = j;
      if (image.at(left + j * s, top + i * s) > image.at(left + brightest * s, top + i * s)) {
        brightest = j;
      }
    }
    // Ties in gray are allowed only between weights that round to it.
    EXPECT_EQ(image.at(left + brightest * s, top + i * s),
              image.at(left + largest * s, top + i * s))
        << "row " << i;
  }
}

// The glyph of `c` at (x, y): upright, or turned 90 degrees counter-clockwise.
void expect_glyph(const GrayImage& image, char c, int64_t x, int64_t y, bool turned) {
  const auto& rows = detail::kFont8x8Basic[static_cast<size_t>(c - detail::kFirstGlyph)];
  for (int64_t gy = 0; gy < 8; ++gy) {
    for (int64_t gx = 0; gx < 8; ++gx) {
      const bool ink = ((rows[static_cast<size_t>(gy)] >> gx) & 1) != 0;
      const int64_t px = turned ? x + gy : x + gx, py = turned ? y + 7 - gx : y + gy;
      ASSERT_EQ(image.at(px, py), ink ? 0 : 255) << "'" << c << "' pixel " << gx << ", " << gy;
    }
  }
}

TEST(HeatMap, CellsWithoutLabels) {
  const Tensor weights = softmax_rows(3, 5, 1);
  const HeatMapOptions options{.cell_size = 4};
  const GrayImage image = decode_gray_png(heat_map_png(weights, options));
  EXPECT_EQ(image.width, 20);
  EXPECT_EQ(image.height, 12);
  expect_cells(image, weights, options);
}

TEST(HeatMap, DefaultCellsAreSixteenPixels) {
  const Tensor weights = softmax_rows(2, 3, 2);
  const GrayImage image = decode_gray_png(heat_map_png(weights));
  expect_cells(image, weights, {});
  EXPECT_EQ(image.width, 48);
}

TEST(HeatMap, BrightestCellOfEachRowIsItsLargestWeight) {
  for (const int64_t cell : {1, 3, 8}) {
    const Tensor weights = softmax_rows(17, 29, static_cast<unsigned>(cell));
    const HeatMapOptions options{.cell_size = cell};
    expect_cells(decode_gray_png(heat_map_png(weights, options)), weights, options);
  }
}

TEST(HeatMap, BlackIsZeroWhiteIsOneAndOutsideIsClamped) {
  const Tensor weights({1, 5}, {0.0F, 1.0F, 0.5F, -0.25F, 1.5F});
  const GrayImage image = decode_gray_png(heat_map_png(weights, {.cell_size = 1}));
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 255, 128, 0, 255}));
}

TEST(HeatMap, LabelsAlongTheTopAndTheLeft) {
  const Tensor weights = softmax_rows(3, 4, 3);
  const HeatMapOptions options{.cell_size = 12,
                               .column_labels = {"The", "cat", "sat", "."},
                               .row_labels = {"Le", "chat", "~"}};
  const GrayImage image = decode_gray_png(heat_map_png(weights, options));
  const int64_t left = 8 * 4 + 4, top = 8 * 3 + 4;
  EXPECT_EQ(image.width, left + 4 * 12);
  EXPECT_EQ(image.height, top + 3 * 12);
  expect_cells(image, weights, options);
  // Row labels end 4 pixels left of the cells, centred in their rows.
  for (size_t i = 0; i < options.row_labels.size(); ++i) {
    const std::string& label = options.row_labels[i];
    const int64_t x = left - 4 - 8 * static_cast<int64_t>(label.size());
    const int64_t y = top + static_cast<int64_t>(i) * 12 + 2;
    for (size_t k = 0; k < label.size(); ++k) {
      expect_glyph(image, label[k], x + 8 * static_cast<int64_t>(k), y, false);
    }
  }
  // Column labels read bottom to top, their first glyph just above the cells.
  for (size_t j = 0; j < options.column_labels.size(); ++j) {
    const std::string& label = options.column_labels[j];
    const int64_t x = left + static_cast<int64_t>(j) * 12 + 2;
    for (size_t k = 0; k < label.size(); ++k) {
      expect_glyph(image, label[k], x, top - 4 - 8 * static_cast<int64_t>(k + 1), true);
    }
  }
  EXPECT_EQ(image.at(0, 0), 255);  // the corner between the margins is white
}

TEST(HeatMap, BytesOutsidePrintableAsciiAreQuestionMarks) {
  const HeatMapOptions options{.cell_size = 8, .row_labels = {"\xc3\xa9"}};
  const GrayImage image = decode_gray_png(heat_map_png(Tensor({1, 1}, {0.5F}), options));
  ASSERT_EQ(image.width, 8 * 2 + 4 + 8);
  expect_glyph(image, '?', 0, 0, false);
  expect_glyph(image, '?', 8, 0, false);
}

TEST(HeatMap, ViewsAreDrawnAsTheirElements) {
  const Tensor weights = softmax_rows(4, 3, 5);
  const Tensor transposed = weights.transpose(0, 1);
  const HeatMapOptions options{.cell_size = 2};
  expect_cells(decode_gray_png(heat_map_png(transposed, options)), transposed.clone(), options);
}

TEST(HeatMap, RefusesWhatItCannotDraw) {
  const std::string source = "heat_map_png: ";
  expect_error(
      [] {
        heat_map_png(Tensor({4}, {0.1F, 0.2F, 0.3F, 0.4F}));
      },
      source +
          "weights must be a 2-D matrix. Expected shape (rows, columns). Received: "
          "weights.shape=(4,).");
  expect_error(
      [] {
        heat_map_png(Tensor({2, 3, 4}));
      },
      source +
          "weights must be a 2-D matrix. Expected shape (rows, columns). Received: "
          "weights.shape=(2, 3, 4).");
  expect_error(
      [] {
        heat_map_png(Tensor({0, 3}));
      },
      source +
          "weights is empty. Expected at least one row and one column. Received: "
          "weights.shape=(0, 3).");
  Tensor with_nan({2, 3});
  with_nan(1, 2) = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { heat_map_png(with_nan); },
               source +
                   "weights holds a value that is not finite. Expected finite weights. "
                   "Received: weights[1, 2]=nan.");
  Tensor with_inf({2, 3});
  with_inf(0, 1) = -std::numeric_limits<float>::infinity();
  expect_error([&] { heat_map_png(with_inf); },
               source +
                   "weights holds a value that is not finite. Expected finite weights. "
                   "Received: weights[0, 1]=-inf.");
  const Tensor weights({2, 3});
  expect_error(
      [&] {
        heat_map_png(weights, {.column_labels = {"a", "b"}});
      },
      source +
          "wrong number of column_labels. Expected none or one per column (3). "
          "Received: column_labels of length 2.");
  expect_error(
      [&] {
        heat_map_png(weights, {.row_labels = {"a", "b", "c"}});
      },
      source +
          "wrong number of row_labels. Expected none or one per row (2). Received: "
          "row_labels of length 3.");
  expect_error([&] { heat_map_png(weights, {.cell_size = 0}); },
               source +
                   "invalid cell_size. Expected a size from 1 to 256 pixels. Received: "
                   "cell_size=0.");
  expect_error([&] { heat_map_png(weights, {.cell_size = 257}); },
               source +
                   "invalid cell_size. Expected a size from 1 to 256 pixels. Received: "
                   "cell_size=257.");
  expect_error(
      [&] {
        heat_map_png(weights, {.cell_size = 7, .row_labels = {"a", "b"}});
      },
      source +
          "invalid cell_size. Expected a size from 8 to 256 pixels (labels are 8 "
          "pixels high). Received: cell_size=7.");
  expect_error(
      [] {
        heat_map_png(Tensor({1, 5000}), {.cell_size = 256});
      },
      source +
          "the heat map is too large. Expected at most 1000000 pixels a side and "
          "268435456 in all (a smaller cell_size). Received: weights.shape=(1, 5000), "
          "cell_size=256: over 1000000 x 256 pixels.");
  expect_error(
      [] {
        heat_map_png(Tensor({2000, 2000}), {.cell_size = 16});
      },
      source +
          "the heat map is too large. Expected at most 1000000 pixels a side and "
          "268435456 in all (a smaller cell_size). Received: weights.shape=(2000, "
          "2000), cell_size=16: 32000 x 32000 pixels.");
}

class HeatMapFile : public testing::TempDirTest {};

TEST_F(HeatMapFile, WritesThePngAtThePath) {
  const Tensor weights = softmax_rows(5, 7, 6);
  const HeatMapOptions options{.cell_size = 8,
                               .column_labels = {"a", "b", "c", "d", "e", "f", "g"}};
  write_heat_map_png(dir_ / "scores.png", weights, options);
  EXPECT_EQ(files(), std::vector<std::string>{"scores.png"});
  expect_cells(decode_gray_png(read_file_bytes(dir_ / "scores.png")), weights, options);
}

TEST_F(HeatMapFile, UnwritablePathsLeaveNothing) {
  const std::filesystem::path missing = dir_ / "no-such-folder" / "scores.png";
  expect_error<FileError>(
      [&] {
        write_heat_map_png(missing, Tensor({1, 1}));
      },
      "cannot write '" + missing.string() + "': No such file or directory");
  std::filesystem::create_directory(dir_ / "folder.png");
  expect_error<FileError>(
      [&] {
        write_heat_map_png(dir_ / "folder.png", Tensor({1, 1}));
      },
      "cannot write '" + (dir_ / "folder.png").string() + "': it is a directory");
  EXPECT_EQ(files(), std::vector<std::string>{"folder.png"});
  // A refused matrix writes nothing either.
  EXPECT_THROW(write_heat_map_png(dir_ / "empty.png", Tensor({0, 0})), ValueError);
  EXPECT_EQ(files(), std::vector<std::string>{"folder.png"});
}

}  // namespace
}  // namespace kattn
