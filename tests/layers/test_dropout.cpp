#include <gtest/gtest.h>

#include <cmath>

#include "kattn/layers/dropout.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::golden_intermediate;
using testing::message_of;

// `block1_attn_dropout` of tests/data/golden-models/enc_mha_embed_mask/model.keras.
Config keras_dropout_config() {
  return Config::parse(R"({"name": "block1_attn_dropout", "trainable": true, "dtype": {"module":
    "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null,
    "shared_object_id": 139956118066000}, "rate": 0.1, "seed": null, "noise_shape": null})");
}

TEST(Dropout, KerasConfigRoundTrips) {
  Config keras = keras_dropout_config();
  const auto dropout = Dropout::from_config(keras);
  keras["dtype"].erase("shared_object_id");
  EXPECT_EQ(dropout->get_config(), keras);
  const Dropout shaped({.rate = 0.5, .noise_shape = Shape{-1, 1, 4}, .seed = 7, .name = "d"});
  const Config config = shaped.get_config();
  EXPECT_EQ(config["noise_shape"], Config::parse("[null, 1, 4]"));
  EXPECT_EQ(config["seed"], 7);
  EXPECT_EQ(Dropout::from_config(config)->get_config(), config);
  EXPECT_TRUE(shaped.built());
  EXPECT_TRUE(shaped.weights().empty());
}

TEST(Dropout, InferenceIsTheSameTensor) {
  const Dropout dropout({.rate = 0.5});
  const Tensor x({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(dropout.call(x).data(), x.data());
  EXPECT_EQ(Dropout({.rate = 0.0}).call(x, /*training=*/true).data(), x.data());
}

TEST(Dropout, TrainingDropsAndScales) {
  const Dropout dropout({.rate = 0.25, .seed = 3});
  const Tensor x = Tensor::full({4000}, 3.0f);
  const Tensor y = dropout.call(x, true);
  int64_t kept = 0;
  for (const float v : y.to_vector()) {
    ASSERT_TRUE(v == 0.0f || v == 3.0f / 0.75f) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / 4000.0, 0.75, 0.03);
  // A fresh key per call, the same sequence for the same seed.
  EXPECT_NE(dropout.call(x, true).to_vector(), y.to_vector());
  EXPECT_EQ(Dropout({.rate = 0.25, .seed = 3}).call(x, true).to_vector(), y.to_vector());
  // rate 1 drops everything (Keras: where(mask, x / 0, 0)).
  for (const float v : Dropout({.rate = 1.0}).call(x, true).to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(Dropout, NoiseShapeBroadcasts) {
  // (2, 50, 3) with noise (None, 1, 3): one keep decision per (batch, feature), shared in time.
  const Dropout dropout({.rate = 0.5, .noise_shape = Shape{-1, 1, 3}, .seed = 1});
  const Tensor y = dropout.call(Tensor::full({2, 50, 3}, 1.0f), true);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t f = 0; f < 3; ++f) {
      for (int64_t t = 1; t < 50; ++t) ASSERT_EQ(y(b, t, f), y(b, 0, f));
    }
  }
  EXPECT_EQ(message_of<ValueError>([&] {
              dropout.call(Tensor({2, 4, 4}), true);
            }),
            "Dropout 'dropout': `noise_shape` does not broadcast to the input. Expected one entry "
            "per input axis, each the input's length, 1 or None. Received: noise_shape=(None, 1, "
            "3), input_shape=(2, 4, 4).");
}

TEST(Dropout, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { Dropout({.rate = 1.5, .name = "d"}); }),
            "Dropout 'd': Invalid value received for argument `rate`. Expected a float value "
            "between 0 and 1. Received: rate=1.5.");
  EXPECT_EQ(message_of<ValueError>([] { Dropout({.rate = NAN, .name = "d"}); }),
            "Dropout 'd': Invalid value received for argument `rate`. Expected a float value "
            "between 0 and 1. Received: rate=nan.");
  EXPECT_EQ(message_of<ValueError>([] {
              Dropout({.rate = 0.1, .noise_shape = Shape{2, 0}});
            }),
            "Dropout 'dropout': Invalid value received for argument `noise_shape`. Expected all "
            "dimensions to be positive integers or None. Received: noise_shape=(2, 0).");
  Config config = keras_dropout_config();
  config.erase("rate");
  EXPECT_EQ(message_of<ValueError>([&] { Dropout::from_config(config); }),
            "Dropout 'block1_attn_dropout': invalid config value for `rate`. Expected a float "
            "value between 0 and 1. Received: rate=missing.");
  config = keras_dropout_config();
  config["noise_shape"] = "abc";
  EXPECT_EQ(message_of<ValueError>([&] { Dropout::from_config(config); }),
            "Dropout 'block1_attn_dropout': invalid config value for `noise_shape`. Expected a "
            "tuple or list of integers. Received: noise_shape=\"abc\".");
}

// Keras's Dropout(0.1) at inference in enc_mha_embed_mask: the MHA output, unchanged.
TEST(Dropout, MatchesKerasInGoldenModel) {
  const auto dropout = Dropout::from_config(keras_dropout_config());
  const Tensor input =
      std::get<Tensor>(golden_intermediate("enc_mha_embed_mask", "block1_mha.0.0"));
  const Tensor expected =
      std::get<Tensor>(golden_intermediate("enc_mha_embed_mask", "block1_attn_dropout.0.0"));
  EXPECT_EQ(dropout->call(input).to_vector(), expected.to_vector());
}

}  // namespace
}  // namespace kattn
