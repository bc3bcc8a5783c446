// The seq2seq example (examples/seq2seq_attention): both encoder-decoders, trained briefly,
// decode held-out dates above chance, save .keras files kattn loads back, and draw heat maps
// whose size is the documented layout's and whose brightest cell in each row is that row's
// largest attention weight.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"
#include "png_test_util.hpp"

namespace kattn {
namespace {

TEST(Seq2SeqAttentionExample, TrainsDecodesSavesAndDraws) {
  const auto dir = std::filesystem::temp_directory_path() / "kattn_seq2seq_attention_example";
  std::filesystem::remove_all(dir);
  const std::filesystem::path log = dir.string() + ".log";
  const std::string command = std::string(KATTN_BINARY_DIR) + "/bin/seq2seq_attention " +
                              dir.string() + " 5 2000 > " + log.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(log);
  int found = 0;
  std::string line;
  while (std::getline(text, line)) {
    double accuracy = -1;
    char name[16];
    if (std::sscanf(line.c_str(), "%15[a-z]: held-out exact match %lf", name, &accuracy) == 2) {
      ++found;
      EXPECT_GE(accuracy, 0.001) << name;
    }
  }
  EXPECT_EQ(found, 2) << text.str();

  for (const char* name : {"luong", "bahdanau"}) {
    SCOPED_TRACE(name);
    const Model model = load_model(dir / (std::string(name) + ".keras"));
    EXPECT_EQ(model.name(), name);
    const Tensor weights = read_npy_tensor(dir / (std::string(name) + "_alignment.npy"));
    const testing::GrayImage image =
        testing::decode_gray_png(read_file_bytes(dir / (std::string(name) + "_alignment.png")));
    // One-character labels: 12-pixel margins (8 + 4), 16-pixel cells.
    const int64_t rows = weights.dim(0), columns = weights.dim(1);
    ASSERT_EQ(rows, 10);
    ASSERT_EQ(image.width, 12 + 16 * columns);
    ASSERT_EQ(image.height, 12 + 16 * rows);
    for (int64_t i = 0; i < rows; ++i) {
      int64_t brightest = 0;
      float largest = weights(i, 0);
      for (int64_t j = 0; j < columns; ++j) {
        largest = std::max(largest, weights(i, j));
        if (image.at(12 + 16 * j + 8, 12 + 16 * i + 8) >
            image.at(12 + 16 * brightest + 8, 12 + 16 * i + 8)) {
          brightest = j;
        }
      }
      // Gray levels are 255 steps: a tie within one step is still the largest weight.
      EXPECT_GE(weights(i, brightest), largest - 1.0f / 255.0f) << "row " << i;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kattn
