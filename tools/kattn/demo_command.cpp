// kattn demo: the worked example of the Keras documentation of Attention, computed three ways.
#include <cstdio>
#include <iostream>
#include <string>

#include "command_line.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp = R"(usage: kattn demo

Runs the worked example of the Keras documentation of keras.layers.Attention: one query
attends over three key/value vectors. Shows the attention distribution and the output of
Attention (dot-product scores), AdditiveAttention and Attention(score_mode="concat").
)";

std::string format_row(const float* values, int64_t count) {
  std::string row = "[";
  for (int64_t i = 0; i < count; ++i) {
    char number[32];
    std::snprintf(number, sizeof number, "%.3g", static_cast<double>(values[i]));
    row += (i > 0 ? ", " : "") + std::string(number);
  }
  return row + "]";
}

void show(const std::string& title, const std::string& scoring, const AttentionOutput& result) {
  const Tensor& scores = *result.attention_scores;
  std::cout << title << "\n"
            << "  scores:       " << scoring << "\n"
            << "  distribution: " << format_row(scores.data(), scores.dim(-1))
            << "   (softmax of the scores over the 3 keys)\n"
            << "  output:       " << format_row(result.output.data(), result.output.dim(-1))
            << "   (the values averaged with those weights)\n\n";
}

}  // namespace

int run_demo(const std::vector<std::string>& args) {
  const Arguments arguments(args, {}, {});
  if (arguments.wants_help()) {
    std::cout << kHelp;
    return 0;
  }
  if (!arguments.positionals().empty()) throw UsageError("demo takes no arguments");

  // (batch 1, Tq 1, dim 4) and (batch 1, Tv 3, dim 4): the key is the value.
  const Tensor query({1, 1, 4}, {1, 1, 1, 3});
  const Tensor value({1, 3, 4}, {1, 1, 2, 4, 4, 1, 1, 3, 1, 1, 2, 1});
  DenseAttentionCallArgs args_with_scores;
  args_with_scores.return_attention_scores = true;

  std::cout << "One query, [1, 1, 1, 3], attends over three keys that are also the values:\n"
            << "  [1, 1, 2, 4]\n  [4, 1, 1, 3]\n  [1, 1, 2, 1]\n\n";

  const Attention luong;
  show("Attention (Luong, score_mode=\"dot\")",
       "query . key = [16, 15, 7]", luong.call(query, value, args_with_scores));

  const AdditiveAttention bahdanau({.use_scale = false});
  show("AdditiveAttention (Bahdanau, use_scale=False)", "sum over features of tanh(query + key)",
       bahdanau.call(query, value, args_with_scores));

  const Attention concat({.score_mode = "concat"});
  show("Attention (score_mode=\"concat\")",
       "concat_score_weight * sum over features of tanh(query + key), weight 1",
       concat.call(query, value, args_with_scores));

  std::cout << "The dot-product scores differ by 1 and by 9, so the distribution is sharp: "
               "0.731, 0.269 and 9.02e-05.\n"
               "tanh saturates near 1 for these inputs, so the additive and concat scores are "
               "close together and\nthe distribution is nearly uniform.\n";
  return 0;
}

}  // namespace kattn::cli
