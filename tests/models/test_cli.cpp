// `kattn predict` end to end (and inspect and convert): the built program run on a golden model,
// its files compared with what Keras computed, and its exit status and message for each kind of
// bad argument.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "kattn/core/context.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"
#include "png_test_util.hpp"

namespace kattn {
namespace {

// A file of the text_dot golden model.
std::filesystem::path golden(const std::string& file) {
  return testing::golden_models_dir() / "text_dot" / file;
}

class KattnPredict : public ::testing::Test {
 protected:
  struct Result {
    int status;
    std::string out, err;
  };

  void SetUp() override {
    dir_ = std::filesystem::path(KATTN_BINARY_DIR) / "test-scratch" /
           ("cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // For the shell. Built in place: GCC 12's -Wrestrict misfires on "'" + std::string.
  static std::string quoted(const std::filesystem::path& path) {
    std::string text = path.string();
    text.insert(text.begin(), '\'');
    text.push_back('\'');
    return text;
  }
  static std::string input(const std::string& name, const std::filesystem::path& file) {
    return " --input " + quoted(name + "=" + file.string());
  }
  // Both inputs of text_dot and an output directory in the scratch folder.
  std::string golden_arguments() const {
    return input("query_tokens", golden("query_tokens.npy")) +
           input("value_tokens", golden("value_tokens.npy")) + " --output-dir " +
           quoted(dir_ / "out");
  }

  Result kattn(const std::string& arguments) const {
    return kattn_in_shell(quoted(std::filesystem::path(KATTN_BINARY_DIR) / "bin/kattn") + " " +
                          arguments);
  }
  // A shell command line with its output captured.
  Result kattn_in_shell(const std::string& command) const {
    const std::filesystem::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string line = "(" + command + ") > " + quoted(out) + " 2> " + quoted(err);
    const int status = std::system(line.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file_bytes(out),
            read_file_bytes(err)};
  }
  Result predict(const std::string& arguments) const {
    return kattn("predict " + quoted(golden("model.keras")) + arguments);
  }

  std::filesystem::path dir_;
};

void expect_golden_output(const std::filesystem::path& written) {
  const Tensor actual = read_npy_tensor(written);
  const Tensor expected = read_npy_tensor(golden("output_0_similarity.npy"));
  ASSERT_EQ(actual.shape(), expected.shape());
  const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], e[i], 1e-5) << "at " << i;
}

// The message main prints for a command-line mistake of predict.
std::string usage_error(const std::string& message) {
  return "kattn predict: " + message + "\n(see 'kattn predict --help')\n";
}

TEST_F(KattnPredict, WritesWhatKerasComputed) {
  const Result result = predict(golden_arguments() + " --threads 2");
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, (dir_ / "out" / "output_0_similarity.npy").string() + "  (2, 1) float32\n");
  expect_golden_output(dir_ / "out" / "output_0_similarity.npy");
}

// Files are named output_<i>_<name>.npy after Keras's model.output_names, in output order: here
// op nodes ("add", "true_divide", "add_4", ...).
TEST_F(KattnPredict, NamesOutputFilesByKerasOutputNames) {
  const std::filesystem::path dir = testing::data_dir() / "golden-zoo" / "ops_arithmetic";
  const Result result = kattn("predict " + quoted(dir / "model.keras") + input("a", dir / "a.npy") +
                              input("b", dir / "b.npy") + " --output-dir " + quoted(dir_ / "out"));
  ASSERT_EQ(result.status, 0) << result.err;
  const Config outputs = testing::read_case_json(dir).at("outputs");
  ASSERT_EQ(outputs.size(), 11U);
  size_t written = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "out")) {
    (void)entry;
    ++written;
  }
  EXPECT_EQ(written, outputs.size());
  for (const Config& output : outputs) {
    // The golden set names its files by its own output labels; Keras's output_names are the
    // producing operations' names (the first of `produced_by`).
    const std::string file = "output_" + std::to_string(output.at("index").get<int>()) + "_" +
                             output.at("produced_by")[0].get<std::string>() + ".npy";
    ASSERT_TRUE(std::filesystem::exists(dir_ / "out" / file)) << file;
    const Tensor actual = read_npy_tensor(dir_ / "out" / file);
    const Tensor expected = read_npy_tensor(dir / output.at("file").get<std::string>());
    ASSERT_EQ(actual.shape(), expected.shape()) << file;
    const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], e[i], 1e-4 + 1e-5 * std::fabs(e[i]));
  }
}

TEST_F(KattnPredict, NarrowsInt64IdsThatFitInt32) {
  const auto wide = [&](const std::string& name) {
    const std::filesystem::path path = dir_ / (name + ".npy");
    write_npy(path, std::get<Int32Tensor>(read_npy(golden(name + ".npy"))).cast<int64_t>());
    return input(name, path);
  };
  const Result result = predict(wide("query_tokens") + wide("value_tokens") + " --output-dir " +
                                quoted(dir_ / "out"));
  ASSERT_EQ(result.status, 0) << result.err;
  expect_golden_output(dir_ / "out" / "output_0_similarity.npy");
}

TEST_F(KattnPredict, RefusesInt64IdsBeyondInt32) {
  const std::filesystem::path ids = dir_ / "ids.npy";
  write_npy(ids, Int64Tensor({1, 2}, {1, int64_t{1} << 40}));
  const Result result =
      predict(input("query_tokens", ids) + input("value_tokens", golden("value_tokens.npy")) +
              " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn predict: input 'query_tokens' takes int32 values; '" + ids.string() +
                            "' holds int64 1099511627776, beyond int32's range\n");
}

TEST_F(KattnPredict, RefusesAnotherDtypeNamingBoth) {
  const Result result = predict(input("query_tokens", golden("output_0_similarity.npy")) +
                                input("value_tokens", golden("value_tokens.npy")) +
                                " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn predict: input 'query_tokens' takes int32 values; '" +
                            golden("output_0_similarity.npy").string() + "' holds float32\n");
}

TEST_F(KattnPredict, NamesTheDtypeAFileStoresNotTheOneItIsReadAs) {
  const std::filesystem::path wide = dir_ / "wide.npy";
  // float64 values, read as float32; the message names what the file holds.
  std::string bytes = to_npy_bytes(Tensor({1, 2}, {1.0f, 2.0f}));
  bytes.replace(bytes.find("<f4"), 3, "<f8");
  bytes.resize(bytes.size() - 8);
  bytes += std::string("\0\0\0\0\0\0\xf0\x3f\0\0\0\0\0\0\0\x40", 16);
  write_file_atomically(wide, bytes);
  const Result result =
      predict(input("query_tokens", wide) + input("value_tokens", golden("value_tokens.npy")) +
              " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn predict: input 'query_tokens' takes int32 values; '" +
                            wide.string() + "' holds float64\n");
}

TEST_F(KattnPredict, WritesOutputsUnderSafeNamesInsideTheFolder) {
  // An output layer named with '..', a NUL and a space: one plain file name in DIR.
  KerasArchive archive = load_keras_archive(golden("model.keras"));
  const std::string hostile("..\0 evil", 8);
  for (Config& layer : archive.config["config"]["layers"]) {
    if (layer["name"] == "similarity") {
      layer["name"] = hostile;
      layer["config"]["name"] = hostile;
    }
  }
  archive.config["config"]["output_layers"][0][0] = hostile;
  const std::filesystem::path model = dir_ / "hostile.keras";
  save_keras_archive(model, archive);
  const Result result = kattn("predict " + quoted(model) + golden_arguments());
  ASSERT_EQ(result.status, 0) << result.err;
  expect_golden_output(dir_ / "out" / "output_0_..__evil.npy");
  size_t written = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "out")) {
    (void)entry;
    ++written;
  }
  EXPECT_EQ(written, 1u);
}

TEST_F(KattnPredict, RefusesFifosAndDevicesAtOnce) {
  const std::filesystem::path fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Result as_model = kattn("predict " + quoted(fifo) + golden_arguments());
  EXPECT_EQ(as_model.status, 2);
  EXPECT_EQ(as_model.err,
            "kattn predict: zip archive '" + fifo.string() + "': is not a regular file\n");
  const Result as_input = predict(input("query_tokens", "/dev/zero") + input("value_tokens", fifo) +
                                  " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(as_input.status, 2);
  EXPECT_EQ(as_input.err, "kattn predict: cannot read '/dev/zero': it is a device\n");
}

#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer cannot start under a memory limit
TEST_F(KattnPredict, RunningOutOfMemoryIsAMessageAndExitStatus2) {
  // 50 million tokens: their embeddings alone take 1.6 GB, beyond a 1 GB limit.
  const std::filesystem::path ids = dir_ / "ids.npy";
  write_npy(ids, Int32Tensor({1, 50'000'000}));
  const std::string command =
      "ulimit -v 1000000; " + quoted(std::filesystem::path(KATTN_BINARY_DIR) / "bin/kattn") +
      " predict " + quoted(golden("model.keras")) + input("query_tokens", ids) +
      input("value_tokens", ids) + " --output-dir " + quoted(dir_ / "out");
  const Result result = kattn_in_shell(command);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn predict: out of memory\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
}
#endif

TEST_F(KattnPredict, RunsWritingIntoOneFolderAtOnceAllSucceed) {
  // 16 runs at once, twice over: each succeeds and leaves whole files, and no temporary file.
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> runs;
    std::vector<int> status(16, -1);
    for (size_t run = 0; run < status.size(); ++run) {
      runs.emplace_back([&, run] {
        const std::string command = quoted(std::filesystem::path(KATTN_BINARY_DIR) / "bin/kattn") +
                                    " predict " + quoted(golden("model.keras")) +
                                    golden_arguments() + " > /dev/null 2>&1";
        const int result = std::system(command.c_str());
        status[run] = WIFEXITED(result) ? WEXITSTATUS(result) : -1;
      });
    }
    for (std::thread& run : runs) run.join();
    EXPECT_EQ(status, std::vector<int>(16, 0));
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "out")) {
      names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"output_0_similarity.npy"});
    expect_golden_output(dir_ / "out" / "output_0_similarity.npy");
  }
}

// The files in a folder, sorted.
std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A heat map of (rows, columns) scores in cells of 16 pixels, as kattn predict draws them: each
// cell's gray is its score's, and each row's brightest cell is its largest score.
void expect_heat_map(const std::filesystem::path& file, const Tensor& scores) {
  const int64_t rows = scores.dim(0), columns = scores.dim(1);
  const testing::GrayImage image = testing::decode_gray_png(read_file_bytes(file));
  ASSERT_EQ(image.width, columns * 16) << file;
  ASSERT_EQ(image.height, rows * 16) << file;
  for (int64_t i = 0; i < rows; ++i) {
    int64_t largest = 0, brightest = 0;
    for (int64_t j = 0; j < columns; ++j) {
      const int gray = image.at(j * 16 + 8, i * 16 + 8);
      EXPECT_NEAR(gray, 255.0 * scores(i, j), 0.5 + 1e-3) << file << " (" << i << ", " << j << ")";
      if (scores(i, j) > scores(i, largest)) largest = j;
      if (gray > image.at(brightest * 16 + 8, i * 16 + 8)) brightest = j;
    }
    EXPECT_EQ(image.at(brightest * 16 + 8, i * 16 + 8), image.at(largest * 16 + 8, i * 16 + 8))
        << file << " row " << i;
  }
}

// The scores of every attention call of a golden case, as the library computes them.
std::vector<Model::AttentionScores> library_scores(const std::filesystem::path& dir) {
  const Model model = load_model(dir / "model.keras");
  return model
      .predict_with_attention_scores(testing::case_inputs(dir, testing::read_case_json(dir)))
      .attention_scores;
}

TEST_F(KattnPredict, DrawsAttentionHeatMapsPerCallAndBatchItem) {
  const std::filesystem::path maps = dir_ / "maps";
  const Result result = predict(golden_arguments() + " --attention-heat-maps " + quoted(maps));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, (dir_ / "out" / "output_0_similarity.npy").string() + "  (2, 1) float32\n" +
                            (maps / "attention_0_attention_batch0.png").string() +
                            "  (6, 8) attention scores, 128x96 PNG\n" +
                            (maps / "attention_0_attention_batch1.png").string() +
                            "  (6, 8) attention scores, 128x96 PNG\n");
  expect_golden_output(dir_ / "out" / "output_0_similarity.npy");
  EXPECT_EQ(files_in(maps), (std::vector<std::string>{"attention_0_attention_batch0.png",
                                                      "attention_0_attention_batch1.png"}));
  const std::vector<Model::AttentionScores> scores =
      library_scores(testing::golden_models_dir() / "text_dot");
  ASSERT_EQ(scores.size(), 1U);
  for (int64_t b = 0; b < 2; ++b) {
    expect_heat_map(maps / ("attention_0_attention_batch" + std::to_string(b) + ".png"),
                    scores[0].scores.slice(0, b, b + 1).reshape({6, 8}));
  }
}

// Every attention layer: Attention and AdditiveAttention one map per batch item,
// MultiHeadAttention one per batch item and head, numbered in the order they run.
TEST_F(KattnPredict, DrawsAttentionHeatMapsOfEveryLayerAndHead) {
  const std::filesystem::path dir = testing::golden_models_dir() / "multi_attention_named";
  const std::filesystem::path maps = dir_ / "maps";
  const Result result =
      kattn("predict " + quoted(dir / "model.keras") + input("query", dir / "query.npy") +
            input("value", dir / "value.npy") + " --output-dir " + quoted(dir_ / "out") +
            " --attention-heat-maps " + quoted(maps));
  ASSERT_EQ(result.status, 0) << result.err;
  const std::vector<Model::AttentionScores> scores = library_scores(dir);
  const std::vector<std::string> layers{"first_luong", "second_luong", "bahdanau_scorer",
                                        "attention", "additive_attention"};
  ASSERT_EQ(scores.size(), layers.size());
  std::vector<std::string> expected;
  for (size_t k = 0; k < layers.size(); ++k) {
    const Tensor& call = scores[k].scores;
    const bool by_head = call.rank() == 4;
    const int64_t heads = by_head ? call.dim(1) : 1;
    const Tensor matrices = call.reshape({call.dim(0) * heads, call.dim(-2), call.dim(-1)});
    for (int64_t b = 0; b < call.dim(0); ++b) {
      for (int64_t h = 0; h < heads; ++h) {
        const std::string name = "attention_" + std::to_string(k) + "_" + layers[k] + "_batch" +
                                 std::to_string(b) + (by_head ? "_head" + std::to_string(h) : "") +
                                 ".png";
        expected.push_back(name);
        expect_heat_map(maps / name, matrices.slice(0, b * heads + h, b * heads + h + 1)
                                         .reshape({call.dim(-2), call.dim(-1)}));
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(expected.size(), 3U * 3U + 3U * 2U * 2U);
  EXPECT_EQ(files_in(maps), expected);
}

TEST_F(KattnPredict, WritesNoOutputWhenTheHeatMapsCannotBeWritten) {
  write_file_atomically(dir_ / "maps", "a file where the folder would go");
  const Result result =
      predict(golden_arguments() + " --attention-heat-maps " + quoted(dir_ / "maps"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(
      result.err.rfind("kattn predict: cannot create '" + (dir_ / "maps").string() + "': ", 0), 0U)
      << result.err;
  EXPECT_TRUE(!std::filesystem::exists(dir_ / "out") || files_in(dir_ / "out").empty());
}

TEST_F(KattnPredict, RefusesAnEmptyHeatMapFolder) {
  const Result result = predict(golden_arguments() + " --attention-heat-maps ''");
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, usage_error("--attention-heat-maps expects a folder, received ''"));
}

TEST_F(KattnPredict, RefusesAnUnknownInputListingTheModelsInputs) {
  const Result result = predict(golden_arguments() + input("tokens", golden("query_tokens.npy")));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(
      result.err,
      usage_error("unknown input 'tokens'; the model's inputs are query_tokens, value_tokens"));
}

TEST_F(KattnPredict, RefusesAMissingInput) {
  const Result result = predict(input("query_tokens", golden("query_tokens.npy")) +
                                " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, usage_error("missing input 'value_tokens'; the model's inputs are "
                                    "query_tokens, value_tokens"));
}

TEST_F(KattnPredict, RefusesAnInputGivenTwice) {
  const Result result =
      predict(golden_arguments() + input("value_tokens", golden("value_tokens.npy")));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, usage_error("input 'value_tokens' given more than once"));
}

TEST_F(KattnPredict, RefusesAnInputOfTheWrongShape) {
  const std::filesystem::path ids = dir_ / "ids.npy";
  write_npy(ids, Int32Tensor({2, 6, 1}));
  const Result result =
      predict(input("query_tokens", ids) + input("value_tokens", golden("value_tokens.npy")) +
              " --output-dir " + quoted(dir_ / "out"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err,
            "kattn predict: Functional 'text_similarity': incompatible input 'query_tokens'. "
            "Expected shape (None, None). Received: query_tokens of shape (2, 6, 1).\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
}

TEST_F(KattnPredict, RefusesAMissingModelFile) {
  const std::filesystem::path model = dir_ / "no-such-model.keras";
  const Result result = kattn("predict " + quoted(model) + golden_arguments());
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn predict: zip archive '" + model.string() + "': no such file\n");
}

TEST_F(KattnPredict, RefusesThreadsBeyondTheMachinesHardwareThreads) {
  const std::string most = std::to_string(hardware_threads());
  const std::vector<std::string> refused = {
      "0", "-1", "2x", "''", std::to_string(hardware_threads() + 1), "1000"};
  for (const std::string& threads : refused) {
    const Result result = predict(golden_arguments() + " --threads " + threads);
    EXPECT_EQ(result.status, 2) << threads;
    const std::string received = threads == "''" ? "" : threads;
    EXPECT_EQ(result.err,
              usage_error("--threads expects an integer from 1 to " + most +
                          " (this machine's hardware threads), received '" + received + "'"));
  }
}

TEST_F(KattnPredict, PrintsItsHelpToStandardOutput) {
  const Result result = kattn("predict --help");
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out.rfind("usage: kattn predict MODEL.keras --input NAME=FILE.npy", 0), 0u)
      << result.out;
  // What it promises: threads for the whole run, outputs written together, safe names.
  EXPECT_NE(result.out.find("OpenBLAS's matrix products and kattn's own"), std::string::npos);
  EXPECT_NE(result.out.find("written together or not at\nall"), std::string::npos);
  EXPECT_NE(result.out.find("written as '_'"), std::string::npos);
  EXPECT_NE(result.out.find("attention_<k>_<layer>_batch<b>_head<h>.png"), std::string::npos);
  EXPECT_EQ(result.err, "");
}

// --custom-layers: a library registering the golden zoo's custom layers (built from
// examples/custom_layer/) makes their model load; without it, the class is refused by name.
TEST_F(KattnPredict, LoadsCustomLayersFromALibrary) {
  const std::filesystem::path model = testing::data_dir() / "golden-zoo/custom_text_transformer";
  const std::string library =
      quoted(std::filesystem::path(KATTN_BINARY_DIR) / "libkattn_zoo_layers.so");
  const Result inspected =
      kattn("inspect --custom-layers " + library + " " + quoted(model / "model.keras"));
  ASSERT_EQ(inspected.status, 0) << inspected.err;
  EXPECT_NE(inspected.out.find("transformer_block (TransformerBlock)"), std::string::npos)
      << inspected.out;
  const Result predicted =
      kattn("predict --custom-layers " + library + " " + quoted(model / "model.keras") +
            input("token_ids", model / "token_ids.npy") + " --output-dir " + quoted(dir_ / "out"));
  ASSERT_EQ(predicted.status, 0) << predicted.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "output_0_classifier.npy"));

  const Result refused = kattn("inspect " + quoted(model / "model.keras"));
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("unregistered custom layer class TokenAndPositionEmbedding "
                             "(registered_name 'zoo>TokenAndPositionEmbedding'"),
            std::string::npos)
      << refused.err;
  const Result missing = kattn("inspect --custom-layers " + quoted(dir_ / "none.so") + " " +
                               quoted(model / "model.keras"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("custom layer library '" + (dir_ / "none.so").string() +
                             "': cannot be loaded"),
            std::string::npos)
      << missing.err;
}

// A Sequential prints as Keras prints one: its layers, no connections.
TEST_F(KattnPredict, InspectsSequentialModelsAsKerasSummarizesThem) {
  const Result result = kattn(
      "inspect " + quoted(testing::data_dir() / "golden-zoo/seq_embedding_bilstm_gmp/model.keras"));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("bilstm (Bidirectional)"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("Connected to"), std::string::npos) << result.out;
}

// Keras 2 .h5 files: predict and inspect read them, convert writes the .keras file of the same
// model, whole or not at all.
std::filesystem::path keras2_case(const std::string& file) {
  return testing::data_dir() / "keras2-h5" / "bahdanau_text_similarity" / file;
}

TEST_F(KattnPredict, PredictsWithAKeras2File) {
  const Result result = kattn("predict " + quoted(keras2_case("model.h5")) +
                              input("query_tokens", keras2_case("query_tokens.npy")) +
                              input("value_tokens", keras2_case("value_tokens.npy")) +
                              " --output-dir " + quoted(dir_ / "out"));
  ASSERT_EQ(result.status, 0) << result.err;
  const std::vector<float> a = read_npy_tensor(dir_ / "out/output_0_similarity.npy").to_vector();
  const std::vector<float> e = read_npy_tensor(keras2_case("output_0_similarity.npy")).to_vector();
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], e[i], 2e-5) << "at " << i;
}

TEST_F(KattnPredict, ConvertsAKeras2FileToAKerasFile) {
  const std::filesystem::path target = dir_ / "converted.keras";
  const Result result = kattn("convert " + quoted(keras2_case("model.h5")) + " " + quoted(target));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "wrote " + target.string() +
                            ": Functional 'bahdanau_text_similarity', 415 parameters\n");
  const Model h5 = load_model(keras2_case("model.h5"));
  const Model keras = load_model(target);
  EXPECT_EQ(keras.to_config(), h5.to_config());
  const Result inspected = kattn("inspect " + quoted(target));
  EXPECT_EQ(inspected.status, 0) << inspected.err;
  EXPECT_EQ(inspected.out, kattn("inspect " + quoted(keras2_case("model.h5"))).out);
}

TEST_F(KattnPredict, ConvertRefusesWhatItCannotWriteAndLeavesNoFile) {
  const std::filesystem::path target = dir_ / "converted.keras";
  Result result =
      kattn("convert " + quoted(keras2_case("model.h5")) + " " + quoted(dir_ / "converted.h5"));
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "kattn convert: OUTPUT must end in .keras, as Keras 3 requires; got '" +
                            (dir_ / "converted.h5").string() + "'\n(see 'kattn convert --help')\n");
  const std::filesystem::path refused =
      testing::data_dir() / "keras2-h5" / "error_unmapped_tf_function" / "model.h5";
  result = kattn("convert " + quoted(refused) + " " + quoted(target));
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("unsupported TensorFlow function tf.math.cumsum"), std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 2);  // stdout, stderr
}

// kattn --version: the library's version, the Keras release models follow, the kernels.
TEST_F(KattnPredict, PrintsItsVersion) {
  const Result result = kattn("--version");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(std::regex_match(
      result.out, std::regex("kattn [0-9]+\\.[0-9]+\\.[0-9]+\n"
                             "Keras 3\\.16\\.0\n"
                             "kernels: (reference|portable|avx2|avx512)\n"
                             "OpenBLAS: OpenBLAS [0-9.]+[^\n]*, kernels [A-Za-z0-9]+\n")))
      << result.out;
}

}  // namespace
}  // namespace kattn
