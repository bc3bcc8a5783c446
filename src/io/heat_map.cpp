#include "kattn/io/heat_map.hpp"

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <new>
#include <string>

#include "io/font8x8_basic.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kSource{"heat_map_png", ""};
constexpr int64_t kGlyph = 8;     // the font's glyphs are 8x8 pixels
constexpr int64_t kLabelGap = 4;  // between a label and the cells
constexpr int64_t kMaxCellSize = 256;
constexpr int64_t kMaxSide = 1'000'000;  // libpng's default limit when reading
constexpr int64_t kMaxPixels = int64_t{1} << 28;
constexpr uint8_t kInk = 0, kPaper = 255;

int64_t longest(const std::vector<std::string>& labels) {
  size_t bytes = 0;
  for (const std::string& label : labels) bytes = std::max(bytes, label.size());
  return static_cast<int64_t>(bytes);
}

int64_t margin(int64_t longest_label) {
  return longest_label > 0 ? kGlyph * longest_label + kLabelGap : 0;
}

void check_labels(const std::vector<std::string>& labels, int64_t count, const char* what,
                  const char* axis) {
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != count) {
    throw_value_error(kSource, std::string("wrong number of ") + what,
                      std::string("none or one per ") + axis + " (" + std::to_string(count) + ")",
                      std::string(what) + " of length " + std::to_string(labels.size()));
  }
}

// A grayscale image, row-major, one byte per pixel.
struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;

  uint8_t& at(int64_t x, int64_t y) { return pixels[static_cast<size_t>(y * width + x)]; }
};

const std::array<uint8_t, 8>& glyph(char c) {
  if (c < detail::kFirstGlyph || c > detail::kLastGlyph) c = '?';
  return detail::kFont8x8Basic[static_cast<size_t>(c - detail::kFirstGlyph)];
}

// Draws `c` with its top-left corner at (x, y), upright or turned 90 degrees counter-clockwise.
void draw_glyph(Image& image, char c, int64_t x, int64_t y, bool turned) {
  const std::array<uint8_t, 8>& rows = glyph(c);
  for (int64_t gy = 0; gy < kGlyph; ++gy) {
    for (int64_t gx = 0; gx < kGlyph; ++gx) {
      if (((rows[static_cast<size_t>(gy)] >> gx) & 1) == 0) continue;
      // Turned counter-clockwise, the glyph's top row becomes its left column and its left
      // column its bottom row.
      if (turned) {
        image.at(x + gy, y + kGlyph - 1 - gx) = kInk;
      } else {
        image.at(x + gx, y + gy) = kInk;
      }
    }
  }
}

Image draw(const Tensor& weights, const HeatMapOptions& options) {
  const int64_t rows = weights.dim(0), columns = weights.dim(1), s = options.cell_size;
  const int64_t left = margin(longest(options.row_labels));
  const int64_t top = margin(longest(options.column_labels));
  Image image;
  image.width = left + columns * s;
  image.height = top + rows * s;
  image.pixels.assign(static_cast<size_t>(image.width * image.height), kPaper);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < columns; ++j) {
      const float w = std::clamp(weights(i, j), 0.0F, 1.0F);
      const auto gray = static_cast<uint8_t>(std::lround(255.0F * w));
      for (int64_t y = top + i * s; y < top + (i + 1) * s; ++y) {
        std::fill_n(&image.at(left + j * s, y), s, gray);
      }
    }
  }
  for (size_t i = 0; i < options.row_labels.size(); ++i) {
    const std::string& label = options.row_labels[i];
    const int64_t x = left - kLabelGap - kGlyph * static_cast<int64_t>(label.size());
    const int64_t y = top + static_cast<int64_t>(i) * s + (s - kGlyph) / 2;
    for (size_t k = 0; k < label.size(); ++k) {
      draw_glyph(image, label[k], x + kGlyph * static_cast<int64_t>(k), y, false);
    }
  }
  for (size_t j = 0; j < options.column_labels.size(); ++j) {
    const std::string& label = options.column_labels[j];
    const int64_t x = left + static_cast<int64_t>(j) * s + (s - kGlyph) / 2;
    for (size_t k = 0; k < label.size(); ++k) {
      draw_glyph(image, label[k], x, top - kLabelGap - kGlyph * static_cast<int64_t>(k + 1), true);
    }
  }
  return image;
}

// libpng reports errors through a longjmp back into encode(); the message goes here first.
struct PngState {
  std::string bytes;
  char error[256] = {};
  bool out_of_memory = false;
};

PngState& state_of(png_structp png) { return *static_cast<PngState*>(png_get_error_ptr(png)); }

void on_error(png_structp png, png_const_charp message) {
  PngState& state = state_of(png);
  std::strncpy(state.error, message, sizeof(state.error) - 1);
  png_longjmp(png, 1);
}

void on_warning(png_structp /*png*/, png_const_charp /*message*/) {}

void on_write(png_structp png, png_bytep data, size_t length) {
  PngState& state = *static_cast<PngState*>(png_get_io_ptr(png));
  try {
    state.bytes.append(reinterpret_cast<const char*>(data), length);
  } catch (const std::bad_alloc&) {
    state.out_of_memory = true;
  }
  // Outside the handler: a longjmp must not leave a catch block.
  if (state.out_of_memory) png_error(png, "out of memory");
}

void on_flush(png_structp /*png*/) {}

// The whole encoding, between setjmp and the last libpng call: nothing in this frame has a
// destructor, so that a longjmp out of libpng skips none. False when libpng failed.
bool encode(png_structp png, png_infop info, const Image& image) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int64_t y = 0; y < image.height; ++y) {
    png_write_row(png, image.pixels.data() + y * image.width);
  }
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

std::string heat_map_png(const Tensor& weights, const HeatMapOptions& options) {
  if (weights.rank() != 2) {
    throw_value_error(kSource, "weights must be a 2-D matrix", "shape (rows, columns)",
                      "weights.shape=" + shape_to_string(weights.shape()));
  }
  const int64_t rows = weights.dim(0), columns = weights.dim(1);
  if (rows == 0 || columns == 0) {
    throw_value_error(kSource, "weights is empty", "at least one row and one column",
                      "weights.shape=" + shape_to_string(weights.shape()));
  }
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < columns; ++j) {
      if (!std::isfinite(weights(i, j))) {
        throw_value_error(kSource, "weights holds a value that is not finite", "finite weights",
                          "weights[" + std::to_string(i) + ", " + std::to_string(j) +
                              "]=" + std::to_string(weights(i, j)));
      }
    }
  }
  check_labels(options.column_labels, columns, "column_labels", "column");
  check_labels(options.row_labels, rows, "row_labels", "row");
  const bool labelled = !options.column_labels.empty() || !options.row_labels.empty();
  const int64_t least = labelled ? kGlyph : 1;
  if (options.cell_size < least || options.cell_size > kMaxCellSize) {
    throw_value_error(kSource, "invalid cell_size",
                      "a size from " + std::to_string(least) + " to " +
                          std::to_string(kMaxCellSize) + " pixels" +
                          (labelled ? " (labels are 8 pixels high)" : ""),
                      "cell_size=" + std::to_string(options.cell_size));
  }
  // Bounded before multiplying: each factor is at most what a Tensor can index.
  const auto side = [](int64_t margin_pixels, int64_t cells, int64_t cell_size) {
    return cells > kMaxSide ? kMaxSide + 1 : margin_pixels + cells * cell_size;
  };
  const int64_t width = side(margin(longest(options.row_labels)), columns, options.cell_size);
  const int64_t height = side(margin(longest(options.column_labels)), rows, options.cell_size);
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels) {
    throw_value_error(
        kSource, "the heat map is too large",
        "at most " + std::to_string(kMaxSide) + " pixels a side and " + std::to_string(kMaxPixels) +
            " in all (a smaller cell_size)",
        "weights.shape=" + shape_to_string(weights.shape()) +
            ", cell_size=" + std::to_string(options.cell_size) + ": " +
            (width > kMaxSide ? "over " + std::to_string(kMaxSide) : std::to_string(width)) +
            " x " +
            (height > kMaxSide ? "over " + std::to_string(kMaxSide) : std::to_string(height)) +
            " pixels");
  }

  const Image image = draw(weights, options);
  PngState state;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (png == nullptr) throw std::bad_alloc();
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw std::bad_alloc();
  }
  png_set_write_fn(png, &state, on_write, on_flush);
  const bool written = encode(png, info, image);
  png_destroy_write_struct(&png, &info);
  if (state.out_of_memory) throw std::bad_alloc();
  if (!written) throw Error(std::string("heat_map_png: libpng failed: ") + state.error);
  return std::move(state.bytes);
}

void write_heat_map_png(const std::filesystem::path& path, const Tensor& weights,
                        const HeatMapOptions& options) {
  write_file_atomically(path, heat_map_png(weights, options));
}

}  // namespace kattn
