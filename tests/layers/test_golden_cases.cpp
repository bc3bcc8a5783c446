// Every case of tests/data/golden (produced by Keras 3.16) through run_golden_case: the layer
// is rebuilt from its config, given Keras's weights and inputs, and must match Keras's outputs
// and, through run_golden_case_gradients, the gradients of its backward pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "kattn/core/error.hpp"
#include "kattn/golden_case.hpp"

namespace kattn {
namespace {

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& dir : find_golden_cases(std::filesystem::path(KATTN_TEST_DATA_DIR) / "golden")) {
    names.push_back(dir.filename().string());
  }
  return names;
}

class GoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCase, MatchesKeras) {
  const auto dir = std::filesystem::path(KATTN_TEST_DATA_DIR) / "golden" / GetParam();
  const GoldenCaseResult result = run_golden_case(dir);
  if (result.status == CaseStatus::kSkipped) GTEST_SKIP() << result.message;
  EXPECT_EQ(result.message, "");
  for (const ArrayComparison& c : result.comparisons) {
    EXPECT_TRUE(c.passed) << c.name << ": " << c.problem << " largest error " << c.max_abs_error
                          << " at " << shape_to_string(c.worst_index);
  }
  EXPECT_EQ(result.status, CaseStatus::kPassed);
}

INSTANTIATE_TEST_SUITE_P(Keras316, GoldenCase, ::testing::ValuesIn(case_names()),
                         [](const auto& test_param) { return test_param.param; });

// The same cases backward: every gradient file (d_output.npy given) within the case's gradient
// tolerance; cases without gradient files are skipped with case.json's reason.
class GoldenGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenGradients, MatchKeras) {
  const auto dir = std::filesystem::path(KATTN_TEST_DATA_DIR) / "golden" / GetParam();
  const GoldenCaseResult result = run_golden_case_gradients(dir);
  if (result.status == CaseStatus::kSkipped) GTEST_SKIP() << result.message;
  EXPECT_EQ(result.message, "");
  EXPECT_FALSE(result.comparisons.empty());
  for (const ArrayComparison& c : result.comparisons) {
    EXPECT_TRUE(c.passed) << c.name << ": " << c.problem << " largest error " << c.max_abs_error
                          << " at " << shape_to_string(c.worst_index);
  }
  EXPECT_EQ(result.status, CaseStatus::kPassed);
}

INSTANTIATE_TEST_SUITE_P(Keras316, GoldenGradients, ::testing::ValuesIn(case_names()),
                         [](const auto& test_param) { return test_param.param; });

TEST(GoldenCaseRunner, ComparisonReportsTheWorstElement) {
  const Tensor expected({2, 2}, {1, 2, 3, 4});
  const Tensor actual({2, 2}, {1, 2.5f, 3, 4.1f});
  const ArrayComparison c = compare_arrays("output", actual, expected, {1e-5, 1e-5});
  EXPECT_FALSE(c.passed);
  EXPECT_NEAR(c.max_abs_error, 0.5, 1e-6);
  EXPECT_EQ(c.worst_index, (Shape{0, 1}));
  EXPECT_TRUE(compare_arrays("output", expected, expected, {0, 0}).passed);
}

TEST(GoldenCaseRunner, ShapeMismatchFails) {
  const ArrayComparison c = compare_arrays("output", Tensor({2, 3}), Tensor({3, 2}), {1e-5, 1e-5});
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.problem, "shape (2, 3), expected (3, 2)");
}

TEST(GoldenCaseRunner, NanNeverPasses) {
  const Tensor nan({1}, {std::numeric_limits<float>::quiet_NaN()});
  EXPECT_FALSE(compare_arrays("output", nan, Tensor({1}), {1e9, 1e9}).passed);
}

TEST(GoldenCaseRunner, MissingCaseDirectoryIsAFileError) {
  EXPECT_THROW(find_golden_cases("/nonexistent/kattn"), FileError);
}

}  // namespace
}  // namespace kattn
