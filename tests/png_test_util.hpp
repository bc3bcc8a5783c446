// Decoding the PNG heat maps kattn writes, through libpng's reading API, for the tests that
// check their pixels.
#pragma once

#include <gtest/gtest.h>
#include <png.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kattn::testing {

// An 8-bit grayscale image, row-major.
struct GrayImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;

  uint8_t at(int64_t x, int64_t y) const { return pixels[static_cast<size_t>(y * width + x)]; }
};

// The image in `bytes`, which must be an 8-bit grayscale PNG; fails the test otherwise.
inline GrayImage decode_gray_png(const std::string& bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  GrayImage decoded;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) {
    ADD_FAILURE() << "not a PNG libpng reads: " << image.message;
    return decoded;
  }
  EXPECT_EQ(image.format, static_cast<png_uint_32>(PNG_FORMAT_GRAY)) << "not 8-bit grayscale";
  image.format = PNG_FORMAT_GRAY;
  decoded.width = image.width;
  decoded.height = image.height;
  decoded.pixels.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, decoded.pixels.data(), 0, nullptr) == 0) {
    ADD_FAILURE() << "libpng could not decode the PNG: " << image.message;
    png_image_free(&image);
  }
  return decoded;
}

}  // namespace kattn::testing
