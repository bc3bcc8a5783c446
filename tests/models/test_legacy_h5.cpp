// Keras 2 `.h5` files (tests/data/keras2-h5, saved by tf.keras 2.21; test_golden_models.cpp
// compares each model's outputs with tf.keras 2's): every model converts to a `.keras` file that
// predicts the same, load_weights reads Keras 2 weights files, and malformed files fail with
// errors that say why.
#include <gtest/gtest.h>

#include <filesystem>

#include "../error_test_util.hpp"
#include "kattn/golden_case.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/legacy_h5.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::data_dir;
using testing::message_of;
using testing::read_case_json;

std::filesystem::path set_dir() { return data_dir() / "keras2-h5"; }

// The cases of models kattn loads (not those it must refuse).
std::vector<std::string> loadable_cases() {
  std::vector<std::string> names;
  for (const auto& dir : find_golden_cases(set_dir())) {
    if (!read_case_json(dir).value("expect_error", false)) {
      names.push_back(dir.filename().string());
    }
  }
  return names;
}

std::vector<AnyTensor> inputs_of(const std::filesystem::path& dir) {
  std::vector<AnyTensor> inputs;
  const Config manifest = read_case_json(dir);
  for (const Config& input : manifest.at("inputs")) {
    std::visit(
        [&](const auto& array) {
          using T = std::decay_t<decltype(array)>;
          if constexpr (std::is_same_v<T, Tensor> || std::is_same_v<T, Int32Tensor> ||
                        std::is_same_v<T, Mask>) {
            inputs.emplace_back(array);
          } else {
            FAIL() << "unexpected input dtype";
          }
        },
        read_npy(dir / input.at("file").get<std::string>()));
  }
  return inputs;
}

void expect_same_outputs(const std::vector<AnyTensor>& actual,
                         const std::vector<AnyTensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    const Tensor& a = std::get<Tensor>(actual[i]);
    const Tensor& e = std::get<Tensor>(expected[i]);
    ASSERT_EQ(a.shape(), e.shape());
    EXPECT_EQ(a.to_vector(), e.to_vector()) << "output " << i;
  }
}

class Keras2Model : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path dir() const { return set_dir() / GetParam(); }
};

// (Each case's outputs against tf.keras 2's: tests/models/test_golden_models.cpp.)
class Keras2Conversion : public Keras2Model {};

// kattn convert: the .keras file holds a Keras 3 config (no TFOpLambda, no Keras 2 arguments),
// keeps the file's Keras release and predicts bit for bit what the .h5 model predicts.
TEST_P(Keras2Conversion, SavesAKerasFileThatPredictsTheSame) {
  const Model legacy = load_model(dir() / "model.h5");
  const std::filesystem::path saved =
      std::filesystem::temp_directory_path() / ("kattn_convert_" + GetParam() + ".keras");
  save_model(legacy, saved);
  const KerasArchive archive = load_keras_archive(saved);
  const Model converted = load_model(saved);
  std::filesystem::remove(saved);
  const std::string config = archive.config.dump();
  for (const char* keras2 : {"TFOpLambda", "SlicingOpLambda", "batch_input_shape", "time_major",
                             "implementation", "input_length"}) {
    EXPECT_EQ(config.find(keras2), std::string::npos) << keras2;
  }
  EXPECT_EQ(archive.metadata.at("keras_version"), legacy.keras_version().to_string());
  EXPECT_EQ(converted.keras_version(), legacy.keras_version());
  const std::vector<AnyTensor> inputs = inputs_of(dir());
  expect_same_outputs(converted.predict(inputs), legacy.predict(inputs));
}

INSTANTIATE_TEST_SUITE_P(Cases, Keras2Conversion, ::testing::ValuesIn(loadable_cases()));

// The model of a case built from its config alone, with fresh weights.
Model fresh_model(const std::filesystem::path& dir) {
  const Hdf5File file = Hdf5File::open(dir / "model.h5");
  const LegacyH5Model saved = read_legacy_h5_model(file);
  return Model::from_config(upgrade_legacy_model_config(saved.model_config), saved.keras_version);
}

std::vector<AnyTensor> expected_outputs(const std::filesystem::path& dir) {
  std::vector<AnyTensor> outputs;
  const Config manifest = read_case_json(dir);
  for (const Config& output : manifest.at("outputs")) {
    outputs.emplace_back(read_npy_tensor(dir / output.at("file").get<std::string>()));
  }
  return outputs;
}

void expect_close(const std::vector<AnyTensor>& actual, const std::vector<AnyTensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    const std::vector<float> a = std::get<Tensor>(actual[i]).to_vector();
    const std::vector<float> e = std::get<Tensor>(expected[i]).to_vector();
    ASSERT_EQ(a.size(), e.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], e[k], 2e-5 + 2e-5 * std::abs(e[k]));
  }
}

// model.load_weights("weights.h5") of a Keras 2 weights file, topologically and by name.
TEST(Keras2Weights, LoadsWeightsFilesTopologicallyAndByName) {
  for (const char* name : {"mha_encoder_block", "seq2seq_luong"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path dir = set_dir() / name;
    Model model = fresh_model(dir);
    model.load_weights(dir / "weights.h5");
    expect_close(model.predict(inputs_of(dir)), expected_outputs(dir));

    Model by_name = fresh_model(dir);
    load_legacy_h5_weights(by_name, Hdf5File::open(dir / "weights_by_name.h5"), true);
    expect_close(by_name.predict(inputs_of(dir)), expected_outputs(dir));
  }
}

// Topologically, a file whose layers come in another order fails on the first layer whose
// weights do not fit, naming both layers.
TEST(Keras2Weights, TopologicalLoadingOfAnotherOrderFails) {
  const std::filesystem::path dir = set_dir() / "mha_encoder_block";
  Model model = fresh_model(dir);
  const std::string message =
      message_of<FileError>([&] { model.load_weights(dir / "weights_by_name.h5"); });
  EXPECT_NE(message.find("HDF5 file '" + (dir / "weights_by_name.h5").string() + "'"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("self_attention"), std::string::npos) << message;
}

TEST(Keras2Weights, LayerCountMismatchIsAFileError) {
  const std::filesystem::path dir = set_dir() / "mha_encoder_block";
  Model other = fresh_model(set_dir() / "seq2seq_luong");
  const std::string message =
      message_of<FileError>([&] { other.load_weights(dir / "weights.h5"); });
  EXPECT_NE(message.find("layer count mismatch when loading weights from file. Model expected "
                         "5 layers, found 7 saved layers"),
            std::string::npos)
      << message;
}

// TensorFlow 2.9 and before wrote Attention's deprecated `causal` into the config (2.10+ leaves
// it out, so the case's file holds a layer that is not causal): kattn reads it as
// use_causal_mask on each of the layer's calls, and computes what the layer computed before it
// was saved.
TEST(Keras2Config, CausalOfOlderFilesIsUseCausalMaskOnEachCall) {
  const std::filesystem::path dir = set_dir() / "luong_causal_constructor";
  const Hdf5File file = Hdf5File::open(dir / "model.h5");
  Config config = read_legacy_h5_model(file).model_config;
  for (Config& layer : config["config"]["layers"]) {
    if (layer["class_name"] == "Attention") layer["config"]["causal"] = true;
  }
  const Config upgraded = upgrade_legacy_model_config(config);
  for (const Config& layer : upgraded["config"]["layers"]) {
    if (layer["class_name"] != "Attention") continue;
    EXPECT_FALSE(layer["config"].contains("causal"));
    EXPECT_EQ(layer["inbound_nodes"][0]["kwargs"]["use_causal_mask"], true);
  }
  const Model model = Model::from_config(upgraded, KerasVersion{2, 9, 0});
  expect_close(model.predict(inputs_of(dir)), {read_npy_tensor(dir / "before_saving_0_luong.npy")});
  const Model as_saved = load_model(dir / "model.h5");
  expect_close(as_saved.predict(inputs_of(dir)), expected_outputs(dir));
}

// --- Malformed files: h5py's copies of a tf.keras 2 file (tests/data/keras2-h5/hostile), then
// files written here with kattn's own HDF5 writer.

TEST(Keras2HostileFiles, FailWithErrorsThatSayWhy) {
  const std::filesystem::path dir = set_dir() / "hostile";
  const auto expect_prefix = [&](const std::string& file, const std::string& expected) {
    const std::string message = message_of<Error>([&] { load_model(dir / file); });
    const std::string prefix = "HDF5 file '" + (dir / file).string() + "': " + expected;
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
  };
  expect_prefix("external_link.h5",
                "group 'model_weights/luong/luong' keeps its members in link messages");
  expect_prefix("absurd_shape.h5",
                "dataset 'model_weights/luong/luong/scale:0' has shape (1099511627776,), more "
                "than the limit of");
  expect_prefix("model_config_not_json.h5", "attribute 'model_config': malformed JSON at byte");
  expect_prefix("no_model_config.h5", "the root has no attribute 'model_config'");
}

class Keras2Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("kattn_legacy_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".h5");
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // A one-Dense model file: Input(3) -> Dense(2), with the given root attributes.
  void write(const std::map<std::string, std::string>& attributes,
             const Shape& kernel_shape = {3, 2}) {
    Hdf5File file = Hdf5File::create();
    for (const auto& [name, value] : attributes) file.write_string_attribute("", name, value);
    file.create_group("model_weights");
    file.write_string_attribute("model_weights", "layer_names", "dense");
    file.write_string_attribute("model_weights", "keras_version", "2.21.0");
    file.write_string_attribute("model_weights", "backend", "tensorflow");
    file.create_group("model_weights/dense");
    file.write_string_attribute("model_weights/dense", "weight_names", "dense/kernel:0");
    file.write_float32("model_weights/dense/dense/kernel:0", Tensor(kernel_shape));
    write_file_atomically(path_, file.image());
  }

  static std::string model_config() {
    return R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32",
       "name": "x"}, "name": "x", "inbound_nodes": []},
      {"class_name": "Dense", "config": {"name": "dense", "units": 2, "use_bias": false,
       "dtype": "float32"}, "name": "dense", "inbound_nodes": [[["x", 0, 0, {}]]]}],
      "input_layers": [["x", 0, 0]], "output_layers": [["dense", 0, 0]]}})";
  }
  std::map<std::string, std::string> good() const {
    return {
        {"model_config", model_config()}, {"keras_version", "2.21.0"}, {"backend", "tensorflow"}};
  }

  std::string prefix() const { return "HDF5 file '" + path_.string() + "': "; }

  std::filesystem::path path_;
};

TEST_F(Keras2Hostile, AWellFormedFileLoads) {
  write(good());
  const Model model = load_model(path_);
  EXPECT_EQ(model.name(), "m");
  EXPECT_EQ(model.count_params(), 6);
}

TEST_F(Keras2Hostile, MissingModelConfigIsNamed) {
  auto attributes = good();
  attributes.erase("model_config");
  write(attributes);
  testing::expect_error<FileError>(
      [&] { load_model(path_); },
      prefix() +
          "the root has no attribute 'model_config': not a Keras 2 model file "
          "(model.save(\"model.h5\") writes one; a weights file is read by load_weights)");
}

TEST_F(Keras2Hostile, ModelConfigThatIsNotJsonIsNamed) {
  auto attributes = good();
  attributes["model_config"] = "{\"class_name\": ";
  write(attributes);
  const std::string message = message_of<FileError>([&] { load_model(path_); });
  EXPECT_EQ(message.rfind(prefix() + "attribute 'model_config': malformed JSON at byte", 0), 0u)
      << message;
}

TEST_F(Keras2Hostile, ModelConfigOfAnotherShapeIsNamed) {
  auto attributes = good();
  attributes["model_config"] = R"({"class_name": "Functional", "config": {"layers": 3}})";
  write(attributes);
  const std::string message = message_of<FileError>([&] { load_model(path_); });
  EXPECT_NE(message.find("attribute 'model_config'"), std::string::npos) << message;
  EXPECT_NE(message.find("config.layers"), std::string::npos) << message;
}

TEST_F(Keras2Hostile, Keras1FilesAreRefused) {
  auto attributes = good();
  attributes["keras_version"] = "1.2.2";
  write(attributes);
  testing::expect_error<NotSupportedError>(
      [&] { load_model(path_); },
      prefix() +
          "keras_version 1.2.2: a file of Keras 1, whose weight layouts kattn does not "
          "read (expected a file of Keras 2 or tf.keras 2)");
}

TEST_F(Keras2Hostile, OtherBackendsAreRefused) {
  auto attributes = good();
  attributes["backend"] = "theano";
  write(attributes);
  const std::string message = message_of<NotSupportedError>([&] { load_model(path_); });
  EXPECT_EQ(message.rfind(prefix() + "backend 'theano'", 0), 0u) << message;
}

TEST_F(Keras2Hostile, AWeightOfAnotherShapeIsNamed) {
  write(good(), {4, 2});
  testing::expect_error<FileError>(
      [&] { load_model(path_); },
      prefix() +
          "weight 'dense/kernel:0' of layer 'dense' has shape (4, 2), but weight "
          "'kernel' of layer 'dense' has shape (3, 2)");
}

TEST_F(Keras2Hostile, AnAbsurdLayerIsRefusedBeforeItsWeightsAreMade) {
  auto attributes = good();
  attributes["model_config"] =
      std::string(model_config())
          .replace(model_config().find("\"units\": 2"), 10, "\"units\": 2000000000");
  write(attributes);
  const std::string message = message_of<FileError>([&] { load_model(path_); });
  EXPECT_NE(message.find("attribute 'model_config'"), std::string::npos) << message;
  EXPECT_NE(message.find("kernel"), std::string::npos) << message;
}

TEST_F(Keras2Hostile, UnsupportedArgumentsAreRefusedByName) {
  auto attributes = good();
  std::string config = model_config();
  config.replace(config.find("\"use_bias\": false"), 17, "\"use_bias\": false, \"time_major\": 1");
  attributes["model_config"] = R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 3], "name": "x"},
       "name": "x", "inbound_nodes": []},
      {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "time_major": true},
       "name": "lstm", "inbound_nodes": [[["x", 0, 0, {}]]]}],
      "input_layers": [["x", 0, 0]], "output_layers": [["lstm", 0, 0]]}})";
  write(attributes);
  testing::expect_error<NotSupportedError>(
      [&] { load_model(path_); },
      prefix() +
          "attribute 'model_config': LSTM 'lstm': Keras 2 argument time_major=true "
          "(time-major inputs) is not supported. Expected time_major=false. Received: "
          "time_major=true.");
}

TEST_F(Keras2Hostile, AKerasFileIsNotTakenForAnH5File) {
  write(good());
  EXPECT_TRUE(is_hdf5_file(path_));
  EXPECT_FALSE(is_hdf5_file(data_dir() / "golden-models/enc_mha/model.keras"));
  EXPECT_FALSE(is_hdf5_file(path_.string() + ".missing"));
}

}  // namespace
}  // namespace kattn
