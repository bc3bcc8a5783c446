// The model-level golden "zoo" cases the project carries (tests/data/golden-zoo, Keras 3.16):
// the layers people put around attention, recurrent encoders and seq2seq decoders among them.
// Every output, intermediate and Keras mask as Keras computed it, and again after a save and a
// reload.
#include <gtest/gtest.h>

#include <filesystem>

#include "kattn/golden_case.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

std::filesystem::path zoo_dir() { return testing::data_dir() / "golden-zoo"; }

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& dir : find_golden_cases(zoo_dir())) names.push_back(dir.filename().string());
  return names;
}

class GoldenZoo : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenZoo, MatchesKeras) {
  const GoldenCaseResult result = run_golden_case_via_model(zoo_dir() / GetParam());
  EXPECT_EQ(result.status, CaseStatus::kPassed) << result.message;
  for (const ArrayComparison& comparison : result.comparisons) {
    EXPECT_TRUE(comparison.passed) << comparison.name << " " << comparison.problem
                                   << " largest error " << comparison.max_abs_error;
  }
}

// Saved by kattn and loaded again, the model has the same config and the same weights where
// Keras put them.
TEST_P(GoldenZoo, SavesAndReloads) {
  const Model model = load_model(zoo_dir() / GetParam() / "model.keras");
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("kattn_zoo_resaved_" + GetParam() + ".keras");
  save_model(model, file);
  const Model reloaded = load_model(file);
  std::filesystem::remove(file);
  EXPECT_EQ(reloaded.to_config(), model.to_config());
  const WeightStore before = model.weight_store();
  const WeightStore after = reloaded.weight_store();
  ASSERT_EQ(after.datasets().size(), before.datasets().size());
  for (const auto& [path, value] : before.datasets()) {
    ASSERT_NE(after.find(path), nullptr) << path;
    EXPECT_EQ(after.find(path)->to_vector(), value.to_vector()) << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenZoo, ::testing::ValuesIn(case_names()));

}  // namespace
}  // namespace kattn
