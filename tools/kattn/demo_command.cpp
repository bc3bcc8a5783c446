// kattn demo: the worked example of the Keras documentation of Attention, computed three ways,
// then a Keras-saved attention model run next to what Keras computed for it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "command_line.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/models/model.hpp"
#include "model_arrays.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp = R"(usage: kattn demo [MODEL.keras]

Runs the worked example of the Keras documentation of keras.layers.Attention: one query
attends over three key/value vectors. Shows the attention distribution and the output of
Attention (dot-product scores), AdditiveAttention and Attention(score_mode="concat").

Then loads a model Keras saved, runs it and prints its outputs next to the ones Keras
computed, with the largest difference. MODEL.keras defaults to the text-similarity model
shipped in examples/models/text_similarity (Embedding(mask_zero) -> Attention -> pooling ->
Dense); another model needs, in its directory, one <input name>.npy per input and Keras's
outputs as output_<i>_<name>.npy, as 'kattn predict' writes them.
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

// Runs the model at `path` on the inputs beside it and prints its outputs next to Keras's.
void show_saved_model(const std::filesystem::path& path) {
  const Model model = load_model(path);
  const int64_t layers = std::count_if(model.operations().begin(), model.operations().end(),
                                       [](const auto& operation) { return operation->is_layer(); });
  std::cout << "\nA model Keras saved, " << path.string() << ":\n  '" << model.name() << "', "
            << layers << " layers, " << model.count_params() << " parameters\n";
  const std::filesystem::path dir = path.parent_path();
  std::vector<AnyTensor> inputs;
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const std::string name = model.input_names()[i];
    inputs.push_back(read_model_input(model, i, dir / (name + ".npy")));
    std::cout << "  input " << name << ": " << shape_to_string(shape_of(inputs.back())) << " "
              << dtype_name(dtype_of(inputs.back())) << "\n";
  }
  const std::vector<AnyTensor> outputs = model.predict(inputs);
  double largest = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::filesystem::path expected_path = dir / output_file_name(model, i);
    const Tensor expected = read_npy_tensor(expected_path).contiguous();
    const std::string name = model.output_names()[i];
    if (!std::holds_alternative<Tensor>(outputs[i]) || shape_of(outputs[i]) != expected.shape()) {
      throw ValueError("output '" + name + "' is " + shape_to_string(shape_of(outputs[i])) + " " +
                       std::string(dtype_name(dtype_of(outputs[i]))) + "; '" +
                       expected_path.string() + "' holds " + shape_to_string(expected.shape()) +
                       " float32");
    }
    const Tensor computed = std::get<Tensor>(outputs[i]).contiguous();
    std::cout << "  output " << name << " " << shape_to_string(computed.shape())
              << ":\n    kattn          Keras\n";
    for (int64_t j = 0; j < computed.size(); ++j) {
      char line[64];
      std::snprintf(line, sizeof line, "    %#-13.7g  %#.7g\n",
                    static_cast<double>(computed.data()[j]),
                    static_cast<double>(expected.data()[j]));
      std::cout << line;
      largest = std::max(largest, std::fabs(static_cast<double>(computed.data()[j]) -
                                            static_cast<double>(expected.data()[j])));
    }
  }
  char difference[32];
  std::snprintf(difference, sizeof difference, "%.3g", largest);
  std::cout << "  largest difference: " << difference << "\n";
}

}  // namespace

int run_demo(const std::vector<std::string>& args) {
  const Arguments arguments(args, {}, {});
  if (arguments.wants_help()) {
    std::cout << kHelp;
    return 0;
  }
  if (arguments.positionals().size() > 1) throw UsageError("expected at most one MODEL.keras");
  const std::filesystem::path model_path =
      arguments.positionals().empty()
          ? std::filesystem::path(KATTN_EXAMPLES_DIR) / "models/text_similarity/model.keras"
          : std::filesystem::path(arguments.positionals()[0]);
  // Checked before anything is printed, so that a missing model is the only line.
  if (!std::filesystem::is_regular_file(model_path)) {
    throw FileError("no model file '" + model_path.string() +
                    "'; 'kattn demo MODEL.keras' runs another");
  }

  // (batch 1, Tq 1, dim 4) and (batch 1, Tv 3, dim 4): the key is the value.
  const Tensor query({1, 1, 4}, {1, 1, 1, 3});
  const Tensor value({1, 3, 4}, {1, 1, 2, 4, 4, 1, 1, 3, 1, 1, 2, 1});
  DenseAttentionCallArgs args_with_scores;
  args_with_scores.return_attention_scores = true;

  std::cout << "One query, [1, 1, 1, 3], attends over three keys that are also the values:\n"
            << "  [1, 1, 2, 4]\n  [4, 1, 1, 3]\n  [1, 1, 2, 1]\n\n";

  const Attention luong;
  show("Attention (Luong, score_mode=\"dot\")", "query . key = [16, 15, 7]",
       luong.call(query, value, args_with_scores));

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
  show_saved_model(model_path);
  return 0;
}

}  // namespace kattn::cli
