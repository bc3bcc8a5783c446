#include <gtest/gtest.h>

#include "kattn/layers/dense.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::golden_intermediate;
using testing::golden_model_weights;
using testing::message_of;

// The `hidden` layer of tests/data/golden-models/text_dot/model.keras, as Keras 3.16 wrote it.
Config keras_hidden_config() {
  return Config::parse(R"({"name": "hidden", "trainable": true, "dtype": {"module": "keras",
    "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null,
    "shared_object_id": 139956132106064}, "units": 8, "activation": "relu", "use_bias": true,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
    "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null},
    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
    "registered_name": null}, "kernel_regularizer": null, "bias_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null, "quantization_config": null})");
}

TEST(Dense, KerasConfigRoundTrips) {
  Config keras = keras_hidden_config();
  const auto dense = Dense::from_config(keras);
  keras["dtype"].erase("shared_object_id");
  EXPECT_EQ(dense->get_config(), keras);
  EXPECT_EQ(dense->units(), 8);
  EXPECT_EQ(dense->activation().name(), "relu");
  EXPECT_EQ(Dense::from_config(dense->get_config())->get_config(), dense->get_config());
}

TEST(Dense, DefaultsAndWeights) {
  Dense dense({.units = 3});
  EXPECT_EQ(dense.name(), "dense");
  EXPECT_EQ(dense.get_config()["activation"], "linear");
  EXPECT_EQ(dense.compute_output_shape({-1, 5, 4}), (Shape{-1, 5, 3}));
  dense.build({-1, -1, 4});
  dense.build({7, 9});  // a no-op once built
  ASSERT_EQ(dense.weights().size(), 2u);
  EXPECT_EQ(dense.weights()[0].name, "kernel");
  EXPECT_EQ(dense.weights()[0].value.shape(), (Shape{4, 3}));
  EXPECT_EQ(dense.weights()[1].name, "bias");
  EXPECT_EQ(dense.weights()[1].value.shape(), (Shape{3}));
  EXPECT_EQ(dense.weight_path(dense.weights()[1]), "dense/bias");

  Dense no_bias({.units = 2, .use_bias = false});
  no_bias.build({1, 4});
  ASSERT_EQ(no_bias.weights().size(), 1u);
}

// Keras's add_weight(regularizer=, constraint=): each weight carries its own, and the config
// writes them back under the kind's keys.
TEST(Dense, WeightsCarryTheirRegularizerAndConstraint) {
  Dense dense({.units = 2,
               .kernel = {.initializer = Initializer::ones(), .regularizer = "l2"},
               .bias = {.constraint = "non_neg"}});
  dense.build({1, 3});
  const Variable& kernel = dense.weights()[0];
  const Variable& bias = dense.weights()[1];
  EXPECT_EQ(kernel.regularizer, "l2");
  EXPECT_TRUE(kernel.constraint.is_null());
  EXPECT_EQ(kernel.value.to_vector(), std::vector<float>(6, 1.0f));
  EXPECT_TRUE(bias.regularizer.is_null());
  EXPECT_EQ(bias.constraint, "non_neg");
  const Config config = dense.get_config();
  EXPECT_EQ(config["kernel_regularizer"], "l2");
  EXPECT_EQ(config["bias_constraint"], "non_neg");
  EXPECT_EQ(config["bias_initializer"]["class_name"], "Zeros");  // the kind's default
  EXPECT_EQ(Dense::from_config(config)->get_config(), config);
}

TEST(Dense, HandComputedRank3) {
  Dense dense({.units = 2, .activation = ActivationFunction("relu"), .name = "d"});
  dense.build({-1, -1, 3});
  dense.set_weights({Tensor({3, 2}, {1, -1, 2, 0, 0, 1}), Tensor({2}, {0.5f, -2})});
  // x (1, 2, 3): rows [1, 2, 3] and [-1, 0, 1]; x @ k = [5, 2], [-1, 2]; + b = [5.5, 0],
  // [-0.5, 0]; relu.
  const Tensor y = dense.call(Tensor({1, 2, 3}, {1, 2, 3, -1, 0, 1}));
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{5.5f, 0, 0, 0}));
}

TEST(Dense, ErrorsNameTheArgument) {
  EXPECT_EQ(message_of<ValueError>([] { Dense({.units = 0, .name = "d"}); }),
            "Dense 'd': Invalid value for argument `units`. Expected a positive integer. "
            "Received: units=0.");
  Dense dense({.units = 2, .name = "d"});
  EXPECT_EQ(message_of<ValueError>([&] {
              dense.call(Tensor({3}, {1, 2, 3}));
            }),
            "Dense 'd': Input 0 is incompatible with the layer. Expected min_ndim=2. Received: "
            "ndim=1, shape=(3,).");
  dense.build({-1, 3});
  EXPECT_EQ(message_of<ValueError>([&] {
              dense.call(Tensor({1, 4}));
            }),
            "Dense 'd': Input 0 is incompatible with the layer. Expected a last dimension of 3. "
            "Received: shape=(1, 4).");
  EXPECT_EQ(message_of<ValueError>([] {
              Dense({.units = 1, .name = "d"}).build({2, -1});
            }),
            "Dense 'd': the last dimension of the inputs must be known and positive. Expected a "
            "feature dimension > 0. Received: shape=(2, None).");

  Config config = keras_hidden_config();
  config["quantization_config"] = {{"mode", "int8"}};
  EXPECT_EQ(message_of<NotSupportedError>([&] { Dense::from_config(config); }),
            "Dense 'hidden': unsupported argument. Expected quantization_config=None. Received: "
            "quantization_config={\"mode\":\"int8\"}.");
  config = keras_hidden_config();
  config["lora_rank"] = 4;
  EXPECT_EQ(message_of<NotSupportedError>([&] { Dense::from_config(config); }),
            "Dense 'hidden': unsupported argument. Expected lora_rank=None. Received: "
            "lora_rank=4.");
  config = keras_hidden_config();
  config["activation"] = "threshold";
  EXPECT_EQ(message_of<NotSupportedError>([&] { Dense::from_config(config); }),
            "Activation: unsupported activation. Expected one of linear, relu, gelu, sigmoid, "
            "tanh, softmax, silu, hard_sigmoid, softsign, relu6, leaky_relu, elu, selu, celu, "
            "softplus, log_sigmoid, exponential, mish, hard_silu, tanh_shrink, hard_tanh, "
            "squareplus, sparse_plus, sparse_sigmoid, soft_shrink, hard_shrink, log_softmax, "
            "sparsemax (or swish and hard_swish, aliases of silu and hard_silu). Received: "
            "activation=threshold.");
  config = keras_hidden_config();
  config["filters"] = 3;
  EXPECT_EQ(message_of<ValueError>([&] { Dense::from_config(config); }),
            "Dense 'hidden': unrecognized keyword arguments in the config. Expected only the keys "
            "of Dense.get_config(). Received: {'filters': 3}.");
  // Dense takes activity_regularizer but Keras 3.16 does not write it back.
  config = keras_hidden_config();
  config["activity_regularizer"] = "l2";
  const auto dense_l2 = Dense::from_config(config);
  EXPECT_EQ(dense_l2->activity_regularizer(), "l2");
  EXPECT_FALSE(dense_l2->get_config().contains("activity_regularizer"));
}

// Keras computed these while running the text_dot and enc_mha_embed_mask models.
TEST(Dense, MatchesKerasInGoldenModels) {
  struct Case {
    const char* model;
    const char* layer;
    const char* group;
    const char* input;
    const char* activation;
  };
  for (const Case& c :
       {Case{"text_dot", "hidden", "dense", "concat.0.0", "relu"},
        Case{"text_dot", "similarity", "dense_1", "hidden.0.0", "sigmoid"},
        Case{"enc_mha_embed_mask", "block1_ffn_1", "dense", "block1_attn_norm.0.0", "relu"},
        Case{"enc_mha_embed_mask", "block1_ffn_2", "dense_1", "block1_ffn_1.0.0", "linear"}}) {
    SCOPED_TRACE(c.layer);
    const WeightStore weights = golden_model_weights(c.model);
    const std::vector<Tensor> vars = weights.variables(std::string("layers/") + c.group + "/vars");
    Dense dense(
        {.units = vars[0].dim(1), .activation = ActivationFunction(c.activation), .name = c.layer});
    dense.build({-1, vars[0].dim(0)});
    dense.set_weights(vars);
    const Tensor input = std::get<Tensor>(golden_intermediate(c.model, c.input));
    const Tensor expected =
        std::get<Tensor>(golden_intermediate(c.model, std::string(c.layer) + ".0.0"));
    expect_close(dense.call(input), expected, 1e-5, 1e-5);
  }
}

}  // namespace
}  // namespace kattn
