// Models built in C++ with the functional API, and the errors model configs and calls raise.
#include <gtest/gtest.h>

#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/deserialize.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

Model masked_encoder() {
  auto ids = Input({.shape = {-1}, .dtype = DType::kInt32, .name = "tokens"});
  auto embedding =
      make_layer<Embedding>({.input_dim = 20, .output_dim = 8, .mask_zero = true, .name = "embed"});
  KerasTensor x = embedding(ids);
  x = make_layer<MultiHeadAttention>({.num_heads = 2, .key_dim = 4, .name = "mha"})(
      x, x, {{"use_causal_mask", true}});
  const KerasTensor pooled = make_layer<GlobalAveragePooling1D>({.name = "pool"})(x);
  return Model(ids, pooled, "encoder");
}

// Embedding(mask_zero)'s symbolic mask is recorded as GlobalAveragePooling1D's `mask` keyword
// through a NotEqual op node, as Keras records it; the saved config loads back the same.
TEST(FunctionalApi, RecordsKerasMasksAsOpNodes) {
  const Model model = masked_encoder();
  const Config config = model.to_config();
  const Config& layers = config["config"]["layers"];
  std::vector<std::string> classes;
  for (const Config& layer : layers) classes.push_back(layer["class_name"]);
  EXPECT_EQ(classes, (std::vector<std::string>{"InputLayer", "Embedding", "MultiHeadAttention",
                                               "NotEqual", "GlobalAveragePooling1D"}));
  const Config& pool_kwargs = layers[4]["inbound_nodes"][0]["kwargs"];
  EXPECT_EQ(pool_kwargs["mask"]["config"]["keras_history"][0], layers[3]["name"]);
  EXPECT_EQ(layers[3]["inbound_nodes"][0]["args"][1], 0);
  EXPECT_EQ(config["config"]["input_layers"], Config({"tokens", 0, 0}));

  const Model reloaded = Model::from_config(config);
  EXPECT_EQ(reloaded.to_config(), config);
}

// The pooling averages only real tokens, even though MultiHeadAttention cleared the mask its
// input carried: Keras's recorded mask is computed from the ids.
TEST(FunctionalApi, PoolsOverTheRecordedMask) {
  Model model = masked_encoder();
  const Int32Tensor padded({1, 4}, {3, 5, 0, 0});
  const Int32Tensor trimmed({1, 2}, {3, 5});
  const Tensor a = std::get<Tensor>(model.predict({padded}).front());
  const Tensor b = std::get<Tensor>(model.predict({trimmed}).front());
  ASSERT_EQ(a.shape(), (Shape{1, 8}));
  // Causal attention: the real tokens never see the padding, so both give the same pooling.
  for (int64_t i = 0; i < 8; ++i) EXPECT_NEAR(a(0, i), b(0, i), 1e-6);
}

// Layers made from their serialized form, as bindings to other languages make them: keys left
// out take Keras's defaults, and the layer is called on symbolic tensors like any other.
TEST(FunctionalApi, BuildsWithDeserializedLayers) {
  const std::shared_ptr<Operation> dense =
      deserialize_layer(Config::parse(R"({"class_name": "Dense", "module": "keras.layers",
                        "config": {"units": 3, "name": "hidden"}})"));
  EXPECT_EQ(dense->name(), "hidden");
  EXPECT_EQ(dense->get_config()["activation"], "linear");
  const KerasTensor x = Input({.shape = {4}, .name = "features"});
  NodeArguments<KerasTensor> arguments;
  arguments.args.push_back(NodeArg<KerasTensor>::tensor(x));
  const KerasTensor y = call_symbolic(dense, std::move(arguments)).front();
  EXPECT_EQ(y.shape(), (Shape{-1, 3}));
  const Model model(x, y, "deserialized");
  const Tensor out = std::get<Tensor>(model.predict({Tensor({2, 4})}).front());
  EXPECT_EQ(out.shape(), (Shape{2, 3}));

  EXPECT_NE(message_of<NotSupportedError>([] {
              deserialize_layer(Config::parse(R"({"class_name": "Lambda", "config": {}})"));
            }).find("unsupported class Lambda"),
            std::string::npos);
  EXPECT_NE(
      message_of<ValueError>([] {
        deserialize_layer(Config::parse(R"({"class_name": "Dense", "config": {"units": -2}})"));
      }).find("units"),
      std::string::npos);
}

TEST(FunctionalApi, RefusesBadInputs) {
  const Model model = masked_encoder();
  EXPECT_EQ(message_of<ValueError>([&] { model.predict({}); }),
            "Functional 'encoder': wrong number of inputs. Expected 1 inputs (tokens). "
            "Received: 0 inputs.");
  EXPECT_EQ(message_of<ValueError>([&] {
              model.predict({Tensor({1, 3})});
            }),
            "Functional 'encoder': incompatible input 'tokens'. Expected dtype int32. "
            "Received: tokens of dtype float32.");
  EXPECT_EQ(message_of<ValueError>([&] { model.predict({Int32Tensor({3})}); }),
            "Functional 'encoder': incompatible input 'tokens'. Expected shape (None, None). "
            "Received: tokens of shape (3,).");
}

TEST(FunctionalApi, RefusesDuplicateNames) {
  auto x = Input({.shape = {4}, .name = "x"});
  const KerasTensor y = make_layer<Dense>({.units = 2, .name = "d"})(x);
  const KerasTensor z = make_layer<Dense>({.units = 2, .name = "d"})(y);
  EXPECT_EQ(message_of<ValueError>([&] { Model(x, z, "m"); }),
            "Functional 'm': two operations share a name. Expected unique operation names. "
            "Received: the name 'd' used 2 times.");
}

TEST(ModelConfigErrors, NamesWhereTheConfigIsWrong) {
  Config config = masked_encoder().to_config();
  Config dangling = config;
  dangling["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] =
      "nowhere";
  EXPECT_EQ(message_of<ValueError>([&] { Model::from_config(dangling); }),
            "Functional 'encoder': invalid config at config.layers[1].inbound_nodes[0]. Expected "
            "a tensor of a layer of the model. Received: layer 'nowhere'.");
  Config cyclic = config;
  cyclic["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] =
      Config({"embed", 0, 0});
  EXPECT_EQ(message_of<ValueError>([&] { Model::from_config(cyclic); }),
            "Functional 'encoder': invalid config at config.layers[1].inbound_nodes[0]. Expected "
            "inputs computed by other nodes of the model. Received: a node of 'embed' whose "
            "inputs never exist.");
  Config unknown_kwarg = config;
  unknown_kwarg["config"]["layers"][2]["inbound_nodes"][0]["kwargs"]["scale"] = 2;
  EXPECT_EQ(message_of<NotSupportedError>([&] { Model::from_config(unknown_kwarg); }),
            "MultiHeadAttention 'mha': unsupported call argument. Expected one of: query, value, "
            "key, query_mask, value_mask, key_mask, attention_mask, return_attention_scores, "
            "training, use_causal_mask. Received: scale=2.");
  // A subclassed model's config holds no graph.
  Config subclassed = config;
  subclassed["class_name"] = "MyModel";
  EXPECT_EQ(message_of<NotSupportedError>([&] { Model::from_config(subclassed); }),
            "Model: unsupported model class. Expected a Functional or Sequential model. "
            "Received: class_name=MyModel.");
  // A Functional's config under Sequential's name: the keys Sequential does not have.
  Config sequential = config;
  sequential["class_name"] = "Sequential";
  EXPECT_NE(message_of<ValueError>([&] { Model::from_config(sequential); })
                .find("unrecognized keyword arguments in the config. Expected only the keys of "
                      "Sequential.get_config()"),
            std::string::npos);
}

}  // namespace
}  // namespace kattn

namespace kattn {
namespace {

// Symbolic shapes print their unknown sizes as Keras does: None, not -1.
TEST(FunctionalApi, MessagesWriteUnknownSizesAsNone) {
  EXPECT_EQ(shape_to_string({-1, -1, 4}), "(None, None, 4)");
  auto query = Input({.shape = {-1, 4}, .name = "query"});
  const std::string message = testing::message_of<ValueError>([&] {
    make_layer<MultiHeadAttention>({.num_heads = 2, .key_dim = 4, .name = "mha"})(
        query, Input({.shape = {-1, 5, 7}, .name = "bad"}));
  });
  EXPECT_NE(message.find("(None, None, 5, 7)"), std::string::npos) << message;
  EXPECT_EQ(message.find("-1"), std::string::npos) << message;
}

}  // namespace
}  // namespace kattn
