// keras.ops nodes in model graphs: the arithmetic Python operators record (x + res, 2.0 - a,
// a / b), told apart from the layers of the same class name by their module; casts (Cast, and
// Embedding fed float ids); and the errors for op nodes kattn does not understand.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "kattn/golden_case.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"
#include "models/operation_registry.hpp"

namespace kattn {
namespace {

using testing::message_of;

const Tensor& float_output(const std::vector<AnyTensor>& outputs, size_t i) {
  return std::get<Tensor>(outputs.at(i));
}

// The golden zoo's ops_arithmetic (Keras 3.16): Add, Subtract, Multiply, TrueDivide with tensor
// and number operands, Negative, Absolute, Square, Sqrt, Exp, Tanh; outputs and every
// intermediate as Keras computed them.
TEST(OpNodes, RunTheGoldenArithmeticCase) {
  const GoldenCaseResult result =
      run_golden_case_via_model(testing::data_dir() / "golden-zoo" / "ops_arithmetic");
  EXPECT_EQ(result.status, CaseStatus::kPassed) << result.message;
  EXPECT_GE(result.comparisons.size(), 11U);
  for (const ArrayComparison& comparison : result.comparisons) {
    EXPECT_TRUE(comparison.passed) << comparison.name << " " << comparison.problem;
  }
}

// Saving writes every op node back as Keras wrote it (module, class, literal arguments).
TEST(OpNodes, SaveAsKerasSavedThem) {
  const std::filesystem::path file =
      testing::data_dir() / "golden-zoo" / "ops_arithmetic" / "model.keras";
  const Model model = load_model(file);
  const KerasArchive original = load_keras_archive(file);
  Config expected = testing::without_shared_ids(original.config);
  EXPECT_EQ(model.to_config()["config"], expected["config"]);
}

// Python's operators on KerasTensors: the ops Keras records, numbers as literals, numpy
// broadcasting.
TEST(OpNodes, CppOperatorsBuildKerasOpNodes) {
  auto a = Input({.shape = {3, 2}, .name = "a"});
  auto b = Input({.shape = {3, 1}, .name = "b"});
  std::vector<KerasTensor> outputs{a + b, 2.0 - a, a * b, a / b, -a, a * 0.5 + b};
  Model model({a, b}, outputs, "ops");
  // Keras's output_names: the auto-named op nodes ("add", "subtract_2", ...).
  const std::vector<std::string> names = model.output_names();
  const std::vector<std::string> bases{"add",         "subtract", "multiply",
                                       "true_divide", "negative", "add"};
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i].rfind(bases[i], 0), 0U) << names[i];
  const Config config = model.to_config();
  for (const Config& layer : config["config"]["layers"]) {
    if (layer["class_name"] == "InputLayer") continue;
    EXPECT_EQ(layer["module"], "keras.src.ops.numpy") << layer.dump();
    EXPECT_EQ(layer["registered_name"], layer["class_name"]);
  }
  int subtracts = 0;
  for (const Config& layer : config["config"]["layers"]) {
    if (layer["class_name"] != "Subtract") continue;
    ++subtracts;
    EXPECT_EQ(layer["inbound_nodes"][0]["args"][0], 2.0);  // 2.0 - a: the number first
  }
  EXPECT_EQ(subtracts, 1);

  const Tensor x({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor y({1, 3, 1}, {2, 4, 8});
  const std::vector<AnyTensor> results = model.predict({x, y});
  EXPECT_EQ(float_output(results, 0).to_vector(), (std::vector<float>{3, 4, 7, 8, 13, 14}));
  EXPECT_EQ(float_output(results, 1).to_vector(), (std::vector<float>{1, 0, -1, -2, -3, -4}));
  EXPECT_EQ(float_output(results, 2).to_vector(), (std::vector<float>{2, 4, 12, 16, 40, 48}));
  EXPECT_EQ(float_output(results, 3).to_vector(),
            (std::vector<float>{0.5F, 1, 0.75F, 1, 0.625F, 0.75F}));
  EXPECT_EQ(float_output(results, 4).to_vector(), (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  EXPECT_EQ(float_output(results, 5).to_vector(),
            (std::vector<float>{2.5F, 3, 5.5F, 6, 10.5F, 11}));

  // Through a save and a load: the same graph, the same numbers.
  const std::filesystem::path file =
      std::filesystem::path(KATTN_BINARY_DIR) / "test-scratch" / "ops_operators.keras";
  std::filesystem::create_directories(file.parent_path());
  save_model(model, file);
  const Model loaded = load_model(file);
  std::filesystem::remove(file);
  const std::vector<AnyTensor> again = loaded.predict({x, y});
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(float_output(again, i).to_vector(), float_output(results, i).to_vector()) << i;
  }
}

// The layer Add (module keras.layers, a list of inputs) and the op Add (two positional
// operands) are different classes that share a name.
TEST(OpNodes, LayerAndOpOfOneNameAreToldApartByModule) {
  const auto entry = [](const std::string& module) {
    return Config{{"class_name", "Add"}, {"module", module}, {"config", {{"name", "add"}}}};
  };
  EXPECT_TRUE(detail::operation_from_config(entry("keras.layers"))->is_layer());
  EXPECT_FALSE(detail::operation_from_config(entry("keras.src.ops.numpy"))->is_layer());
  EXPECT_EQ(detail::operation_from_config(entry("keras.src.ops.numpy"))->module(),
            "keras.src.ops.numpy");
  EXPECT_EQ(message_of<NotSupportedError>([&] {
              detail::operation_from_config(entry("keras.src.ops.math"));
            }).substr(0, 50),
            "Add: unsupported class Add of module keras.src.ops");
}

TEST(OpNodes, IntegerOperandsStayIntegersAndDivisionGivesFloats) {
  auto ids = Input({.shape = {2}, .dtype = DType::kInt32, .name = "ids"});
  Model model({ids}, {ids + ids, ids * 3.0, ids / 2.0}, "int_ops");
  EXPECT_EQ(model.outputs()[0].dtype(), DType::kInt32);
  EXPECT_EQ(model.outputs()[1].dtype(), DType::kFloat32);  // a float literal promotes
  const std::vector<AnyTensor> out = model.predict({Int32Tensor({1, 2}, {3, -4})});
  EXPECT_EQ(std::get<Int32Tensor>(out[0]).to_vector(), (std::vector<int32_t>{6, -8}));
  EXPECT_EQ(float_output(out, 1).to_vector(), (std::vector<float>{9, -12}));
  EXPECT_EQ(float_output(out, 2).to_vector(), (std::vector<float>{1.5F, -2}));
}

// An op node whose arguments kattn does not understand is refused by name, when the model is
// loaded.
TEST(OpNodes, RefuseArgumentsTheyDoNotUnderstand) {
  auto a = Input({.shape = {2}, .name = "a"});
  const auto call = [&](NodeArguments<KerasTensor> args) {
    call_symbolic(detail::operation_from_config(Config{{"class_name", "Subtract"},
                                                       {"module", "keras.src.ops.numpy"},
                                                       {"config", {{"name", "subtract"}}}}),
                  std::move(args));
  };
  NodeArguments<KerasTensor> text;
  text.args = {NodeArg<KerasTensor>::tensor(a), NodeArg<KerasTensor>::literal("two")};
  EXPECT_EQ(message_of<NotSupportedError>([&] { call(text); }),
            "Subtract 'subtract': unsupported call argument `x2`. Expected a tensor or a number. "
            "Received: x2=\"two\".");
  NodeArguments<KerasTensor> three;
  three.args = {NodeArg<KerasTensor>::tensor(a), NodeArg<KerasTensor>::tensor(a),
                NodeArg<KerasTensor>::tensor(a)};
  EXPECT_NE(message_of<ValueError>([&] { call(three); }).find("Subtract 'subtract'"),
            std::string::npos);
  auto b = Input({.shape = {3}, .name = "b"});
  const std::string broadcast = message_of<ValueError>([&] { (void)(a * b); });
  EXPECT_EQ(broadcast.rfind("Multiply 'multiply", 0), 0U) << broadcast;
  EXPECT_NE(broadcast.find("operands could not be broadcast together. Expected shapes equal or 1 "
                           "on each axis, aligned on the right. Received: x1 of shape "),
            std::string::npos)
      << broadcast;
}

// keras.ops.cast: float to int32 truncates toward zero, anything to bool is x != 0.
TEST(OpNodes, CastConvertsAsNumpyAstype) {
  auto x = Input({.shape = {4}, .name = "x"});
  const auto cast = [&](const std::string& dtype) {
    NodeArguments<KerasTensor> args;
    args.args = {NodeArg<KerasTensor>::tensor(x)};
    return call_symbolic(detail::operation_from_config(
                             Config{{"class_name", "Cast"},
                                    {"module", "keras.src.ops.core"},
                                    {"config", {{"name", "cast_" + dtype}, {"dtype", dtype}}}}),
                         std::move(args))
        .front();
  };
  Model model({x}, {cast("int32"), cast("bool"), cast("float32")}, "casts");
  const std::vector<AnyTensor> out = model.predict({Tensor({1, 4}, {3.7F, -2.5F, 0.5F, 0})});
  EXPECT_EQ(std::get<Int32Tensor>(out[0]).to_vector(), (std::vector<int32_t>{3, -2, 0, 0}));
  EXPECT_EQ(std::get<Mask>(out[1]).to_vector(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(float_output(out, 2).to_vector(), (std::vector<float>{3.7F, -2.5F, 0.5F, 0}));
  EXPECT_EQ(message_of<NotSupportedError>([&] {
              detail::operation_from_config(Config{{"class_name", "Cast"},
                                                   {"module", "keras.src.ops.core"},
                                                   {"config", {{"name", "c"}, {"dtype", "int8"}}}});
            }),
            "Cast 'c': unsupported dtype. Expected float32, int32 or bool. Received: dtype=int8.");
}

// keras.io's text classifiers write Input(shape=(maxlen,)): float32 ids that Embedding casts
// to int32 (truncating), its mask_zero mask compared before the cast.
TEST(OpNodes, EmbeddingCastsFloatIdsAsKerasDoes) {
  auto ids = Input({.shape = {4}, .name = "tokens"});
  auto embedding = make_layer<Embedding>({.input_dim = 5, .output_dim = 2, .mask_zero = true});
  KerasTensor x = embedding(ids);
  Model model({ids}, {x}, "float_ids");
  Tensor table({5, 2}, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4});
  model.get_layer(embedding->name()).set_weights({table});
  const Model::Trace trace = model.trace({Tensor({1, 4}, {3.7F, 1.0F, 0.5F, 0.0F})});
  const ModelValue& out = *trace.outputs.back()[0];
  EXPECT_EQ(std::get<Tensor>(out.tensor).to_vector(), (std::vector<float>{3, 3, 1, 1, 0, 0, 0, 0}));
  ASSERT_TRUE(out.keras_mask.has_value());
  EXPECT_EQ(out.keras_mask->to_vector(), (std::vector<bool>{true, true, true, false}));
  EXPECT_NE(message_of<ValueError>([&] {
              model.predict({Tensor({1, 4}, {NAN, 1, 1, 1})});
            }).find("float ids cast to int32 out of range"),
            std::string::npos);
}

}  // namespace
}  // namespace kattn
