// `kattn predict` end to end: the built program run on a golden model, its files compared with
// what Keras computed, and its exit status and message for each kind of bad argument.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"
#include "models/model_test_util.hpp"

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
    const std::filesystem::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string command = quoted(std::filesystem::path(KATTN_BINARY_DIR) / "bin/kattn") +
                                " " + arguments + " > " + quoted(out) + " 2> " + quoted(err);
    const int status = std::system(command.c_str());
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

TEST_F(KattnPredict, RefusesThreadsThatAreNotAPositiveInteger) {
  for (const std::string threads : {"0", "-1", "2x", "''"}) {
    const Result result = predict(golden_arguments() + " --threads " + threads);
    EXPECT_EQ(result.status, 2) << threads;
    const std::string received = threads == "''" ? "" : threads;
    EXPECT_EQ(result.err,
              usage_error("--threads expects a positive integer, received '" + received + "'"));
  }
}

TEST_F(KattnPredict, PrintsItsHelpToStandardOutput) {
  const Result result = kattn("predict --help");
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out.rfind("usage: kattn predict MODEL.keras --input NAME=FILE.npy", 0), 0u)
      << result.out;
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace kattn
