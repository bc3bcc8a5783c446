#include <gtest/gtest.h>

#include <cmath>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/initializers.hpp"

namespace kattn {
namespace {

constexpr ErrorSource kSource{"Attention", "luong"};

TEST(Config, SnakeCaseFollowsKeras) {
  EXPECT_EQ(to_snake_case("MultiHeadAttention"), "multi_head_attention");
  EXPECT_EQ(to_snake_case("GroupedQueryAttention"), "grouped_query_attention");
  EXPECT_EQ(to_snake_case("Conv1D"), "conv1d");
  EXPECT_EQ(to_snake_case("GlobalAveragePooling1D"), "global_average_pooling1d");
  EXPECT_EQ(to_snake_case("InputLayer"), "input_layer");
  EXPECT_EQ(to_snake_case("EinsumDense"), "einsum_dense");
  EXPECT_EQ(to_snake_case("LSTM"), "lstm");
  EXPECT_EQ(to_snake_case("HTTPServer"), "http_server");
  EXPECT_EQ(to_snake_case("My_Layer"), "my__layer");
}

TEST(Config, UnknownKeysAreRefusedByName) {
  const Config config = {{"use_scale", true}, {"colour", "blue"}};
  ConfigReader reader(config, kSource);
  EXPECT_TRUE(reader.get_bool("use_scale", false));
  try {
    reader.check_all_read();
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "Attention 'luong': unrecognized keyword arguments in the config. Expected only "
                 "the keys of Attention.get_config(). Received: {'colour': \"blue\"}.");
  }
}

TEST(Config, TypesAreChecked) {
  const Config config = {{"dropout", "high"}, {"seed", 3.0}, {"num_heads", 1.5}};
  ConfigReader reader(config, kSource);
  EXPECT_THROW(reader.get_number("dropout", 0.0), ValueError);
  EXPECT_EQ(reader.get_int("seed", 0), 3);
  try {
    reader.get_int("num_heads", 0);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "Attention 'luong': invalid config value for `num_heads`. Expected an integer. "
                 "Received: num_heads=1.5.");
  }
}

TEST(Config, BaseLayerArgsRoundTrip) {
  const LayerArgs args{"luong", false};
  const Config config = layer_args_config(args);
  EXPECT_EQ(config["dtype"]["config"]["name"], "float32");
  ConfigReader reader(config, kSource);
  const LayerArgs back = read_layer_args(reader, "attention");
  EXPECT_EQ(back.name, "luong");
  EXPECT_FALSE(back.trainable);
  reader.check_all_read();
}

TEST(Config, OnlyTheFloat32PolicyIsSupported) {
  const Config config = {{"dtype", "mixed_float16"}};
  ConfigReader reader(config, kSource);
  try {
    read_layer_args(reader, "attention");
    FAIL();
  } catch (const NotSupportedError& e) {
    EXPECT_STREQ(e.what(),
                 "Attention 'luong': unsupported dtype policy. Expected one of the supported "
                 "policies: float32. Received: dtype=mixed_float16.");
  }
}

TEST(Initializers, FansFollowKerasComputeFans) {
  EXPECT_EQ(compute_fans({}).fan_in, 1.0);
  EXPECT_EQ(compute_fans({5}).fan_out, 5.0);
  EXPECT_EQ(compute_fans({3, 4}).fan_in, 3.0);
  // EinsumDense kernel (D=8, N=2, H=4): receptive field 8.
  EXPECT_EQ(compute_fans({8, 2, 4}).fan_in, 16.0);
  EXPECT_EQ(compute_fans({8, 2, 4}).fan_out, 32.0);
}

TEST(Initializers, GlorotUniformStaysWithinItsLimitAndIsSeeded) {
  const Initializer init = Initializer::glorot_uniform(42);
  const Tensor a = init({64, 32});
  const double limit = std::sqrt(6.0 / (64 + 32));
  for (float v : a.to_vector()) EXPECT_LE(std::fabs(v), limit);
  EXPECT_EQ(a.to_vector(), init({64, 32}).to_vector());
  EXPECT_NE(a.to_vector(), Initializer::glorot_uniform(43)({64, 32}).to_vector());
}

TEST(Initializers, ConfigsRoundTripInKerasForm) {
  const Config keras = {
      {"module", "keras.initializers"},
      {"class_name", "GlorotUniform"},
      {"config", {{"seed", nullptr}, {"input_axes", nullptr}, {"output_axes", nullptr}}},
      {"registered_name", nullptr}};
  EXPECT_EQ(Initializer::from_config(keras).get_config(), keras);
  EXPECT_EQ(Initializer::from_config("ones")({2}).to_vector(), (std::vector<float>{1, 1}));
  EXPECT_EQ(Initializer::from_config(Initializer::constant(0.5).get_config())({1}).to_vector(),
            (std::vector<float>{0.5f}));
}

TEST(Initializers, UnsupportedOnesAreRefusedByName) {
  try {
    Initializer::from_config("STFTInitializer");
    FAIL();
  } catch (const NotSupportedError& e) {
    EXPECT_STREQ(e.what(),
                 "Initializer: unsupported initializer. Expected one of Zeros, Ones, Constant, "
                 "Identity, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, "
                 "GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, "
                 "Orthogonal. Received: initializer=STFTInitializer.");
  }
}

}  // namespace
}  // namespace kattn
