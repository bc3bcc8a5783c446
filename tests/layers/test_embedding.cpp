#include <gtest/gtest.h>

#include "kattn/io/npy.hpp"
#include "kattn/layers/embedding.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::golden_intermediate;
using testing::golden_model_weights;
using testing::golden_models_dir;
using testing::message_of;

// The `token_embedding` layer of tests/data/golden-models/enc_mha_embed_mask/model.keras.
Config keras_embedding_config() {
  return Config::parse(R"({"name": "token_embedding", "trainable": true, "dtype": {"module":
    "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name":
    null}, "input_dim": 40, "output_dim": 8, "embeddings_initializer": {"module":
    "keras.initializers", "class_name": "RandomUniform", "config": {"seed": null, "minval":
    -0.05, "maxval": 0.05}, "registered_name": null}, "embeddings_regularizer": null,
    "activity_regularizer": null, "embeddings_constraint": null, "mask_zero": true,
    "quantization_config": null})");
}

TEST(Embedding, KerasConfigRoundTrips) {
  const Config keras = keras_embedding_config();
  const auto embedding = Embedding::from_config(keras);
  EXPECT_EQ(embedding->get_config(), keras);
  EXPECT_TRUE(embedding->mask_zero());
  // Embedding() with Keras's defaults writes the same initializer.
  Embedding defaults(
      {.input_dim = 40, .output_dim = 8, .mask_zero = true, .name = "token_embedding"});
  EXPECT_EQ(defaults.get_config(), keras);
}

TEST(Embedding, WeightsLookupAndMask) {
  Embedding embedding({.input_dim = 3, .output_dim = 2, .name = "e"});
  EXPECT_FALSE(embedding.built());
  embedding.build();
  ASSERT_EQ(embedding.weights().size(), 1u);
  EXPECT_EQ(embedding.weights()[0].name, "embeddings");
  EXPECT_EQ(embedding.weights()[0].value.shape(), (Shape{3, 2}));
  // RandomUniform(-0.05, 0.05).
  for (const float v : embedding.weights()[0].value.to_vector()) {
    EXPECT_GE(v, -0.05f);
    EXPECT_LT(v, 0.05f);
  }
  embedding.set_weight("embeddings", Tensor({3, 2}, {0, 1, 10, 11, 20, 21}));
  const Int32Tensor ids({2, 2}, {2, 0, 1, 1});
  const Tensor out = embedding.call(ids);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(out.to_vector(), (std::vector<float>{20, 21, 0, 1, 10, 11, 10, 11}));
  EXPECT_FALSE(embedding.compute_mask(ids).has_value());
  EXPECT_EQ(embedding.compute_output_shape({-1, 7}), (Shape{-1, 7, 2}));

  // `weights` builds at construction; mask_zero still looks up row 0.
  Embedding masked(
      {.input_dim = 3, .output_dim = 1, .mask_zero = true, .weights = Tensor({3, 1}, {5, 6, 7})});
  EXPECT_TRUE(masked.built());
  EXPECT_EQ(masked.call(Int32Tensor({3}, {0, 2, 0})).to_vector(), (std::vector<float>{5, 7, 5}));
  EXPECT_EQ(masked.compute_mask(Int32Tensor({3}, {0, 2, 0}))->to_vector(),
            (std::vector<bool>{false, true, false}));
}

TEST(Embedding, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { Embedding({.input_dim = 0, .output_dim = 2}); }),
            "Embedding 'embedding': Invalid value for argument `input_dim`. Expected a positive "
            "integer. Received: input_dim=0.");
  EXPECT_EQ(message_of<ValueError>([] {
              Embedding({.input_dim = 2, .output_dim = 2, .weights = Tensor({3, 2})});
            }),
            "Embedding 'embedding_1': wrong shape for weight `embeddings`. Expected shape (2, 2). "
            "Received: shape=(3, 2).");
  Embedding embedding({.input_dim = 4, .output_dim = 2, .name = "e"});
  EXPECT_EQ(message_of<ValueError>([&] {
              embedding.call(Int32Tensor({2, 2}, {0, 1, 4, 2}));
            }),
            "Embedding 'e': id out of range. Expected ids in [0, 4). Received: id=4 at index "
            "(1, 0).");
  EXPECT_EQ(message_of<ValueError>([&] { embedding.call(Int32Tensor({1}, {-1})); }),
            "Embedding 'e': id out of range. Expected ids in [0, 4). Received: id=-1 at index "
            "(0,).");
  Config config = keras_embedding_config();
  config["lora_rank"] = 2;
  EXPECT_EQ(message_of<NotSupportedError>([&] { Embedding::from_config(config); }),
            "Embedding 'token_embedding': unsupported argument. Expected lora_rank=None. "
            "Received: lora_rank=2.");
}

// Keras's outputs and masks from the text_dot (no mask_zero) and enc_mha_embed_mask models.
TEST(Embedding, MatchesKerasInGoldenModels) {
  struct Case {
    const char* model;
    const char* input;
    const char* output;
    bool mask_zero;
  };
  for (const Case& c : {Case{"text_dot", "query_tokens", "token_embedding.0.0", false},
                        Case{"text_dot", "value_tokens", "token_embedding.1.0", false},
                        Case{"enc_mha_embed_mask", "tokens", "token_embedding.0.0", true}}) {
    SCOPED_TRACE(c.output);
    Embedding embedding({.input_dim = 40,
                         .output_dim = 8,
                         .mask_zero = c.mask_zero,
                         .weights = golden_model_weights(c.model).at("layers/embedding/vars/0")});
    const auto ids = std::get<Int32Tensor>(
        read_npy(golden_models_dir() / c.model / (std::string(c.input) + ".npy")));
    const Tensor expected = std::get<Tensor>(golden_intermediate(c.model, c.output));
    // A lookup: exactly Keras's numbers.
    EXPECT_EQ(embedding.call(ids).to_vector(), expected.to_vector());
    const std::optional<Mask> mask = embedding.compute_mask(ids);
    ASSERT_EQ(mask.has_value(), c.mask_zero);
    if (c.mask_zero) {
      const auto keras_mask =
          std::get<Mask>(golden_intermediate(c.model, std::string(c.output) + ".mask"));
      EXPECT_EQ(mask->to_vector(), keras_mask.to_vector());
    }
  }
}

}  // namespace
}  // namespace kattn
