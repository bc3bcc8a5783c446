// Models Keras saved the way users save them (tests/data/keras_reference, made by
// tools/keras_reference/generate.py): compiled, after 0 or a few training steps, with operator
// residuals and float-fed embeddings, and the keras.io timeseries Transformer as its source
// writes it. Training resumes where Keras stopped, in kattn and from files kattn saved.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <tuple>

#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

std::filesystem::path reference_dir() { return testing::data_dir() / "keras_reference"; }

std::vector<std::string> cases_of_kind(const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(reference_dir())) {
    if (!entry.is_directory()) continue;
    if (testing::read_case_json(entry.path()).at("kind") == kind) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<AnyTensor> case_inputs(const std::filesystem::path& dir) {
  std::vector<AnyTensor> inputs;
  const Config manifest = testing::read_case_json(dir);
  for (const Config& input : manifest.at("inputs")) {
    inputs.emplace_back(read_npy_tensor(dir / input.at("file").get<std::string>()));
  }
  return inputs;
}

// |actual - expected| <= atol + rtol * |expected| everywhere; the first offender otherwise.
::testing::AssertionResult close(const Tensor& actual, const Tensor& expected, double atol,
                                 double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_to_string(actual.shape()) << " vs "
                                         << shape_to_string(expected.shape());
  }
  const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]))) {
      return ::testing::AssertionFailure() << "at " << i << ": " << a[i] << " vs " << e[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Every weight and optimizer variable of `model` against the file Keras saved after the same
// step: float32 within rounding, the iteration count exactly.
void expect_state_of(const Model& model, const WeightStore& keras) {
  const WeightStore ours = model.weight_store();
  EXPECT_EQ(ours.datasets().size(), keras.datasets().size());
  for (const auto& [path, value] : keras.datasets()) {
    const Tensor* mine = ours.find(path);
    ASSERT_NE(mine, nullptr) << path;
    // MultiHeadAttention's key bias adds the same q.b to every score of a row, which the softmax
    // ignores: its gradient is 0 but for rounding, and Adam's first step, m / sqrt(v), turns
    // that rounding into a step of up to the learning rate in either direction, in Keras and
    // in kattn alike. Elsewhere the two agree to float32 rounding.
    const bool rounding_only_gradient = path.find("key_dense/vars/1") != std::string::npos;
    EXPECT_TRUE(close(*mine, value, rounding_only_gradient ? 2e-2 : 2e-5, 2e-4)) << path;
  }
  ASSERT_EQ(ours.integer_datasets().size(), keras.integer_datasets().size());
  for (const auto& [path, value] : keras.integer_datasets()) {
    ASSERT_NE(ours.find_integer(path), nullptr) << path;
    EXPECT_EQ(ours.find_integer(path)->to_vector(), value.to_vector()) << path;
  }
  // Group names: Keras names the `vars` groups of sub-layers by a process-wide counter, so only
  // the groups themselves are compared.
  std::vector<std::string> our_groups, keras_groups;
  for (const auto& [path, name] : ours.groups()) our_groups.push_back(path);
  for (const auto& [path, name] : keras.groups()) keras_groups.push_back(path);
  EXPECT_EQ(our_groups, keras_groups);
  EXPECT_EQ(ours.group_name("optimizer/vars"), keras.group_name("optimizer/vars"));
}

class TrainingCase : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path dir() const { return reference_dir() / GetParam(); }
  Config manifest() const { return testing::read_case_json(dir()); }
  std::vector<Tensor> targets() const { return {read_npy_tensor(dir() / "y.npy")}; }
};

// Loaded compiled, with the optimizer Keras saved; predictions as Keras's.
TEST_P(TrainingCase, LoadsCompiledAndPredictsAsKeras) {
  const Model model = load_model(dir() / "model.keras");
  ASSERT_NE(model.optimizer(), nullptr);
  EXPECT_EQ(model.optimizer()->class_name(), manifest().at("optimizer_class"));
  const std::vector<AnyTensor> outputs = model.predict(case_inputs(dir()));
  EXPECT_TRUE(
      close(std::get<Tensor>(outputs[0]), read_npy_tensor(dir() / "predict.npy"), 1e-5, 1e-4));
}

// One more train_on_batch gives the weights, optimizer variables and loss Keras's gave after
// load_model.
TEST_P(TrainingCase, ResumesTrainingWhereKerasStopped) {
  Model model = load_model(dir() / "model.keras");
  const Logs logs = model.train_on_batch(case_inputs(dir()), targets());
  const Config expected_logs = manifest().at("train_on_batch_logs");
  EXPECT_NEAR(logs.at("loss"), expected_logs.at("loss").get<double>(),
              1e-5 + 1e-4 * std::fabs(expected_logs.at("loss").get<double>()));
  expect_state_of(model, load_keras_archive(dir() / "after.keras").weights);
}

// What kattn saves is what Keras saved: loaded back (here, and by
// tools/keras_reference/check_kattn_saved.py in Keras from the copy left in the build tree),
// the next step is Keras's next step.
TEST_P(TrainingCase, SavesItsStateForKerasToResume) {
  const Model loaded = load_model(dir() / "model.keras");
  const std::filesystem::path file = std::filesystem::path(KATTN_BINARY_DIR) /
                                     "keras_reference_saved" / GetParam() / "kattn_saved.keras";
  std::filesystem::create_directories(file.parent_path());
  save_model(loaded, file);
  const KerasArchive saved = load_keras_archive(file);
  const KerasArchive original = load_keras_archive(dir() / "model.keras");
  EXPECT_EQ(saved.config.at("compile_config").at("optimizer"),
            original.config.at("compile_config").at("optimizer"));
  EXPECT_EQ(saved.config.at("compile_config").at("loss"),
            original.config.at("compile_config").at("loss"));

  Model model = load_model(file);
  model.train_on_batch(case_inputs(dir()), targets());
  expect_state_of(model, load_keras_archive(dir() / "after.keras").weights);
}

INSTANTIATE_TEST_SUITE_P(Cases, TrainingCase, ::testing::ValuesIn(cases_of_kind("training")));

// A compiled model whose optimizer kattn does not have loads and predicts; training it names
// the optimizer; saving keeps Keras's compile_config and optimizer variables as they were.
TEST(UnsupportedOptimizer, LoadsForPredictionAndRefusesToTrainByName) {
  for (const std::string& name : cases_of_kind("training_unsupported_optimizer")) {
    SCOPED_TRACE(name);
    const std::filesystem::path dir = reference_dir() / name;
    Model model = load_model(dir / "model.keras");
    EXPECT_EQ(model.optimizer(), nullptr);
    const std::vector<AnyTensor> outputs = model.predict(case_inputs(dir));
    EXPECT_TRUE(
        close(std::get<Tensor>(outputs[0]), read_npy_tensor(dir / "predict.npy"), 1e-5, 1e-4));
    const std::string message = message_of<NotSupportedError>(
        [&] { model.train_on_batch(case_inputs(dir), {read_npy_tensor(dir / "y.npy")}); });
    EXPECT_NE(message.find("unsupported optimizer"), std::string::npos) << message;
    EXPECT_NE(message.find("RMSprop"), std::string::npos) << message;

    const std::filesystem::path file =
        std::filesystem::path(KATTN_BINARY_DIR) / "test-scratch" / (name + "_resaved.keras");
    std::filesystem::create_directories(file.parent_path());
    save_model(model, file);
    const KerasArchive saved = load_keras_archive(file);
    std::filesystem::remove(file);
    const KerasArchive original = load_keras_archive(dir / "model.keras");
    EXPECT_EQ(saved.config.at("compile_config"), original.config.at("compile_config"));
    for (const auto& [path, value] : original.weights.datasets()) {
      ASSERT_NE(saved.weights.find(path), nullptr) << path;
      EXPECT_EQ(saved.weights.find(path)->to_vector(), value.to_vector()) << path;
    }
    EXPECT_EQ(saved.weights.integer_datasets().size(), original.weights.integer_datasets().size());
  }
}

class InferenceCase : public ::testing::TestWithParam<std::string> {};

// Every output, named and ordered as Keras's model.output_names.
TEST_P(InferenceCase, PredictsAsKeras) {
  const std::filesystem::path dir = reference_dir() / GetParam();
  const Config manifest = testing::read_case_json(dir);
  const Model model = load_model(dir / "model.keras");
  std::vector<std::string> names;
  for (const Config& name : manifest.at("output_names")) names.push_back(name.get<std::string>());
  EXPECT_EQ(model.output_names(), names);
  const std::vector<AnyTensor> outputs = model.predict(case_inputs(dir));
  ASSERT_EQ(outputs.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string file = "output_" + std::to_string(i) + "_" + names[i] + ".npy";
    EXPECT_TRUE(close(std::get<Tensor>(outputs[i]), read_npy_tensor(dir / file), 1e-5, 1e-4))
        << file;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, InferenceCase, ::testing::ValuesIn(cases_of_kind("inference")));

}  // namespace
}  // namespace kattn

namespace kattn {
namespace {

// A loss or metric kattn does not have, in a file's compile_config: the model loads and
// predicts; fit names the culprit.
TEST(UnsupportedCompileConfig, LossesAndMetricsAreNamedWhenTraining) {
  const std::filesystem::path dir = reference_dir() / "train_adam_3";
  const KerasArchive archive = load_keras_archive(dir / "model.keras");
  const std::vector<AnyTensor> x = case_inputs(dir);
  const std::vector<Tensor> y{read_npy_tensor(dir / "y.npy")};
  for (const auto& [key, value, named] :
       {std::tuple{"loss", Config("huber"), "huber"},
        std::tuple{"metrics", Config::array({"auc"}), "auc"},
        std::tuple{"loss_weights", Config::array({0.5}), "loss_weights"}}) {
    SCOPED_TRACE(key);
    Model model = Model::from_config(archive.config);
    model.load_weights(archive.weights);
    Config compile_config = archive.config.at("compile_config");
    compile_config[key] = value;
    const std::string message =
        message_of<Error>([&] { model.compile_from_config(compile_config); });
    EXPECT_NE(message.find(named), std::string::npos) << message;
    EXPECT_EQ(model.optimizer(), nullptr);
    EXPECT_EQ(model.predict(x).size(), 1U);
    EXPECT_NE(message_of<Error>([&] { model.train_on_batch(x, y); }).find("compiled"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace kattn
