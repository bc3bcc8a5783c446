// Model::summary() as Keras's print_summary lays out a functional model: a row per operation
// (keras.ops nodes included), several outputs as the list of their shapes, parameter counts of
// wrapped layers, and what each node is connected to.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

// The summary line that starts with `name`, with its runs of spaces squeezed to one.
std::string row_of(const std::string& summary, const std::string& name) {
  std::istringstream lines(summary);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) != 0) continue;
    std::string squeezed;
    for (const char c : line) {
      if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
    }
    return squeezed;
  }
  return "no row for " + name;
}

TEST(ModelSummary, ListsEveryOperationAsKerasDoes) {
  const Model model = load_model(
      (testing::data_dir() / "golden-zoo/s2s_lstm_explicit_masks_scores/model.keras").string());
  const std::string summary = model.summary();
  EXPECT_EQ(row_of(summary, "encoder_lstm"),
            "encoder_lstm (LSTM) [(None, None, 4), (None, 4), (None, 4)] 176 "
            "encoder_embedding[0][0], not_equal[0][0]");
  EXPECT_EQ(row_of(summary, "not_equal"),
            "not_equal (NotEqual) (None, None) 0 encoder_tokens[0][0]");
  EXPECT_EQ(row_of(summary, "zeros_like"),
            "zeros_like (ZerosLike) (None, None, 4) 0 luong_attention[0][0]");
  EXPECT_EQ(row_of(summary, "time_distributed"),
            "time_distributed (TimeDistributed) (None, None, 23) 207 concat[0][0], any[0][0]");
  EXPECT_NE(summary.find(" Total params: 877 (3.43 KB)"), std::string::npos);
}

TEST(ModelSummary, BidirectionalCountsBothDirections) {
  const Model model =
      load_model((testing::data_dir() / "golden-zoo/rnn_bilstm_none_state/model.keras").string());
  const std::string summary = model.summary();
  EXPECT_NE(row_of(summary, "bidirectional").find("(Bidirectional) ["), std::string::npos)
      << summary;
}

}  // namespace
}  // namespace kattn
