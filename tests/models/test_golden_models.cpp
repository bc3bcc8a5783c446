// Whole Keras models from the model-level golden sets the project carries (tests/data:
// golden-models, golden-zoo, and golden-zoo-3.15 saved by Keras 3.15.1, whose recurrent layers
// pass masks on; keras2-h5, tf.keras 2's .h5 files): loading, Keras's execution order, every
// intermediate and Keras mask Keras saw, and save/load round trips.
#include <gtest/gtest.h>

#include <cmath>

#include "kattn/golden_case.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::case_inputs;
using testing::golden_models_dir;
using testing::read_case_json;

// "<set>/<case>" for every case of the four sets; or only those with Keras's intermediates
// (not the cases to refuse, nor error_bilstm, whose output alone was computed afterwards:
// tests/data/README.md).
std::vector<std::string> case_names(bool all) {
  std::vector<std::string> names;
  for (const char* set : {"golden-models", "golden-zoo", "golden-zoo-3.15", "keras2-h5"}) {
    for (const auto& dir : find_golden_cases(testing::data_dir() / set)) {
      if (all || read_case_json(dir).contains("intermediates")) {
        names.push_back(std::string(set) + "/" + dir.filename().string());
      }
    }
  }
  return names;
}

void expect_equal_arrays(const AnyTensor& actual, const AnyTensor& expected) {
  ASSERT_EQ(actual.index(), expected.index());
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        const T& e = std::get<T>(expected);
        ASSERT_EQ(a.shape(), e.shape());
        EXPECT_EQ(a.to_vector(), e.to_vector());
      },
      actual);
}

class GoldenModel : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path dir() const { return testing::data_dir() / GetParam(); }
};

TEST_P(GoldenModel, MatchesKeras) {
  const GoldenCaseResult result = run_golden_case_via_model(dir());
  EXPECT_EQ(result.status, CaseStatus::kPassed) << result.message;
  for (const ArrayComparison& comparison : result.comparisons) {
    EXPECT_TRUE(comparison.passed) << comparison.name << " " << comparison.problem
                                   << " largest error " << comparison.max_abs_error;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenModel, ::testing::ValuesIn(case_names(true)));

class GoldenModelGraph : public GoldenModel {};

// Whether case.json's `intermediates` list the node: a Sequential's list its layers only (not
// the op nodes Keras records when it rebuilds the graph at load time).
bool listed(const Model& model, const Node& node) {
  return !model.is_sequential() || node.operation->is_layer();
}

// Nodes run in the order Keras ran them (case.json `intermediates`).
TEST_P(GoldenModelGraph, RunsNodesInKerasOrder) {
  const Config manifest = read_case_json(dir());
  const Model model = load_model(dir() / "model.keras");
  std::vector<std::string> expected, actual;
  for (const Config& node : manifest.at("intermediates")) {
    expected.push_back(node.at("node")[0].get<std::string>() + "." +
                       std::to_string(node.at("node")[1].get<int64_t>()));
  }
  for (const auto& node : model.execution_order()) {
    if (!listed(model, *node)) continue;
    actual.push_back(node->operation->name() + "." + std::to_string(model.saved_node_index(*node)));
  }
  EXPECT_EQ(actual, expected);
}

// Every node output and every Keras mask equals what Keras computed and carried.
TEST_P(GoldenModelGraph, IntermediatesAndMasksMatchKeras) {
  const Config manifest = read_case_json(dir());
  const Model model = load_model(dir() / "model.keras");
  Model::Trace trace = model.trace(case_inputs(dir(), manifest));
  for (size_t n = trace.nodes.size(); n-- > 0;) {
    if (listed(model, *trace.nodes[n])) continue;
    trace.nodes.erase(trace.nodes.begin() + static_cast<std::ptrdiff_t>(n));
    trace.outputs.erase(trace.outputs.begin() + static_cast<std::ptrdiff_t>(n));
    trace.input_masks.erase(trace.input_masks.begin() + static_cast<std::ptrdiff_t>(n));
    trace.output_masks.erase(trace.output_masks.begin() + static_cast<std::ptrdiff_t>(n));
  }
  const Config& intermediates = manifest.at("intermediates");
  ASSERT_EQ(trace.nodes.size(), intermediates.size());
  for (size_t n = 0; n < trace.nodes.size(); ++n) {
    const Config& node = intermediates[n];
    const std::string where = node.at("node").dump();
    const Config& outputs = node.at("outputs");
    ASSERT_EQ(trace.outputs[n].size(), outputs.size()) << where;
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Config& expected = outputs[k];
      const ModelValue& actual = *trace.outputs[n][k];
      const NpyArray array = read_npy(dir() / expected.at("file").get<std::string>());
      if (const auto* values = std::get_if<Tensor>(&array)) {
        const Tensor& computed = std::get<Tensor>(actual.tensor);
        ASSERT_EQ(computed.shape(), values->shape()) << where;
        const double atol = expected.at("atol").get<double>();
        const std::vector<float> a = computed.to_vector(), e = values->to_vector();
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_LE(std::abs(double(a[i]) - double(e[i])), atol + 1e-5 * std::abs(double(e[i])))
              << where << " output " << k << " at " << i;
        }
      } else {
        expect_equal_arrays(actual.tensor, std::get<Mask>(array));
      }
      const Config& mask_file = expected.at("runtime_mask");
      const std::optional<Mask>& mask = trace.output_masks[n][k];
      ASSERT_EQ(mask.has_value(), !mask_file.is_null()) << where << " output mask";
      if (!mask_file.is_null()) {
        expect_equal_arrays(*mask, read_npy_mask(dir() / mask_file.get<std::string>()));
      }
    }
    const Config& inputs = node.at("inputs");
    // A Sequential's list the layer's input only, not the mask Keras's rebuilt graph passes.
    if (model.is_sequential()) {
      ASSERT_GE(trace.input_masks[n].size(), inputs.size()) << where;
    } else {
      ASSERT_EQ(trace.input_masks[n].size(), inputs.size()) << where;
    }
    for (size_t j = 0; j < inputs.size(); ++j) {
      const Config& mask_file = inputs[j].at("runtime_mask");
      ASSERT_EQ(trace.input_masks[n][j].has_value(), !mask_file.is_null())
          << where << " input " << j << " mask";
      if (!mask_file.is_null()) {
        expect_equal_arrays(*trace.input_masks[n][j],
                            read_npy_mask(dir() / mask_file.get<std::string>()));
      }
    }
  }
}

// Saving writes Keras's config and weight layout back, and the saved file computes the same.
TEST_P(GoldenModelGraph, SavesWhatKerasSavedAndLoadsBack) {
  const Config manifest = read_case_json(dir());
  const KerasArchive original = load_keras_archive(dir() / "model.keras");
  const Model model = load_model(dir() / "model.keras");
  EXPECT_EQ(model.to_config(), testing::without_shared_ids(original.config));
  const WeightStore store = model.weight_store();
  for (const auto& [path, name] : original.weights.groups()) {
    const auto found = store.groups().find(path);
    EXPECT_TRUE(found != store.groups().end() && found->second == name) << "group " << path;
  }
  EXPECT_EQ(store.groups().size(), original.weights.groups().size());
  ASSERT_EQ(store.datasets().size(), original.weights.datasets().size());
  for (const auto& [path, value] : original.weights.datasets()) {
    ASSERT_NE(store.find(path), nullptr) << path;
    EXPECT_EQ(store.find(path)->to_vector(), value.to_vector()) << path;
  }

  const std::filesystem::path saved =
      std::filesystem::temp_directory_path() / ("kattn_resaved_" + dir().filename().string() +
                                                dir().parent_path().filename().string() + ".keras");
  save_model(model, saved);
  const Model reloaded = load_model(saved);
  std::filesystem::remove(saved);
  const std::vector<AnyTensor> inputs = case_inputs(dir(), manifest);
  const std::vector<AnyTensor> before = model.predict(inputs);
  const std::vector<AnyTensor> after = reloaded.predict(inputs);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) expect_equal_arrays(after[i], before[i]);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenModelGraph, ::testing::ValuesIn(case_names(false)));

TEST(GoldenModelErrors, UnsupportedClassesAreNamed) {
  const std::string lambda = testing::message_of<NotSupportedError>(
      [] { load_model(golden_models_dir() / "error_lambda" / "model.keras"); });
  EXPECT_NE(lambda.find("unsupported layer classes Lambda in layers 'affine_lambda' (Lambda)"),
            std::string::npos)
      << lambda;
}

}  // namespace
}  // namespace kattn
