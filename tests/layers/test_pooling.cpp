// GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D: Keras's configs, the masked average,
// shapes, Keras's own numbers from the text golden models, and the 2-D layers' backward against
// central differences.
#include <gtest/gtest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "kattn/layers/pooling.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::golden_intermediate;
using testing::message_of;

// The query_pool entry of text_dot/model.keras config.json (shared_object_id dropped).
const Config kQueryPool = Config::parse(R"({
  "name": "query_pool", "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null},
  "data_format": "channels_last", "keepdims": false})");

Tensor golden(const std::string& case_name, const std::string& file) {
  return std::get<Tensor>(golden_intermediate(case_name, file));
}

// (1, 3, 2): steps (1, 10), (2, 20), (6, 60).
const Tensor kSteps({1, 3, 2}, {1, 10, 2, 20, 6, 60});

TEST(GlobalAveragePooling1D, GoldenConfigRoundTrips) {
  const auto layer = GlobalAveragePooling1D::from_config(kQueryPool);
  EXPECT_EQ(layer->get_config(), kQueryPool);
  EXPECT_TRUE(layer->built());  // weightless, built from construction as in Keras
  EXPECT_TRUE(layer->weights().empty());
  GlobalAveragePooling1D defaults;
  EXPECT_EQ(defaults.name(), "global_average_pooling1d");
  Config expected = kQueryPool;
  expected["name"] = "global_average_pooling1d";
  EXPECT_EQ(defaults.get_config(), expected);
  Config first = kQueryPool;
  first["data_format"] = "Channels_First";
  first["keepdims"] = true;
  EXPECT_EQ(GlobalAveragePooling1D::from_config(first)->get_config()["data_format"],
            "channels_first");
  first["data_format"] = nullptr;  // Keras's default image_data_format
  EXPECT_EQ(GlobalAveragePooling1D::from_config(first)->data_format(), "channels_last");
}

TEST(GlobalAveragePooling1D, MeanWithAndWithoutMask) {
  GlobalAveragePooling1D layer;
  EXPECT_EQ(layer.call(kSteps).to_vector(), (std::vector<float>{3, 30}));
  EXPECT_EQ(layer.call(kSteps).shape(), (Shape{1, 2}));
  // Masked steps leave both the sum and the count.
  EXPECT_EQ(layer.call(kSteps, Mask({1, 3}, {true, true, false})).to_vector(),
            (std::vector<float>{1.5f, 15}));
  // A fully masked row is 0 / 0, as in Keras.
  const std::vector<float> empty = layer.call(kSteps, Mask({1, 3})).to_vector();
  EXPECT_TRUE(std::isnan(empty[0]) && std::isnan(empty[1]));
  EXPECT_EQ(layer.compute_mask(), std::nullopt);
}

TEST(GlobalAveragePooling1D, ChannelsFirstAndKeepdims) {
  GlobalAveragePooling1D first({.data_format = "channels_first", .keepdims = true});
  const Tensor x = kSteps.transpose(1, 2);  // (1, 2, 3), channels first
  EXPECT_EQ(first.call(x).shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(first.call(x, Mask({1, 3}, {false, true, true})).to_vector(),
            (std::vector<float>{4, 40}));
  GlobalAveragePooling1D last({.keepdims = true});
  EXPECT_EQ(last.call(kSteps).shape(), (Shape{1, 1, 2}));
  EXPECT_EQ(last.compute_output_shape({-1, -1, 8}), (Shape{-1, 1, 8}));
  EXPECT_EQ(GlobalAveragePooling1D().compute_output_shape({-1, -1, 8}), (Shape{-1, 8}));
  EXPECT_EQ(first.compute_output_shape({-1, 8, -1}), (Shape{-1, 8, 1}));
}

TEST(GlobalAveragePooling1D, KerasNumbers) {
  GlobalAveragePooling1D layer;
  expect_close(layer.call(golden("text_dot", "cnn.0.0")), golden("text_dot", "query_pool.0.0"));
  expect_close(layer.call(golden("text_dot", "attention.0.0")),
               golden("text_dot", "attention_pool.0.0"));
  // text_dot_maskzero: the node's recorded mask keyword is not_equal(query_tokens, 0).
  const Mask mask = std::get<Mask>(golden_intermediate("text_dot_maskzero", "not_equal.0.0"));
  expect_close(layer.call(golden("text_dot_maskzero", "token_embedding.0.0"), mask),
               golden("text_dot_maskzero", "query_pool.0.0"));
}

TEST(GlobalAveragePooling1D, Errors) {
  GlobalAveragePooling1D layer({.name = "pool"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 3}));
            }),
            "GlobalAveragePooling1D 'pool': Input 0 is incompatible with the layer. Expected "
            "ndim=3. Received: ndim=2, shape=(2, 3).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(kSteps, Mask({1, 2}));
            }),
            "GlobalAveragePooling1D 'pool': the mask does not match the inputs. Expected a mask "
            "of shape (1, 3). Received: mask_shape=(1, 2).");
  EXPECT_EQ(message_of<ValueError>(
                [] { GlobalAveragePooling1D bad({.data_format = "nwc", .name = "p"}); }),
            "GlobalAveragePooling1D 'p': Invalid value for argument `data_format`. Expected one of "
            "{'channels_first', 'channels_last'}. Received: data_format=nwc.");
  Config config = kQueryPool;
  config["pool_size"] = 2;
  EXPECT_EQ(message_of<ValueError>([&] { GlobalAveragePooling1D::from_config(config); }),
            "GlobalAveragePooling1D 'query_pool': unrecognized keyword arguments in the config. "
            "Expected only the keys of GlobalAveragePooling1D.get_config(). Received: "
            "{'pool_size': 2}.");
}

TEST(GlobalMaxPooling1D, ConfigMaxAndShapes) {
  Config config = kQueryPool;
  config["name"] = "max_pool";
  config["keepdims"] = true;
  const auto layer = GlobalMaxPooling1D::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_EQ(layer->class_name(), "GlobalMaxPooling1D");
  EXPECT_EQ(GlobalMaxPooling1D().name(), "global_max_pooling1d");
  EXPECT_EQ(layer->call(kSteps).to_vector(), (std::vector<float>{6, 60}));
  EXPECT_EQ(layer->call(kSteps).shape(), (Shape{1, 1, 2}));
  GlobalMaxPooling1D first({.data_format = "channels_first"});
  EXPECT_EQ(first.call(kSteps.transpose(1, 2)).to_vector(), (std::vector<float>{6, 60}));
  const Tensor with_nan({1, 3, 1}, {1, NAN, 2});
  EXPECT_TRUE(std::isnan(GlobalMaxPooling1D().call(with_nan).to_vector()[0]));
  EXPECT_EQ(message_of<ValueError>([] {
              GlobalMaxPooling1D().call(Tensor({2, 0, 3}));
            }),
            "GlobalMaxPooling1D 'global_max_pooling1d_3': zero-size array to reduction operation "
            "maximum. Expected at least one step. Received: shape=(2, 0, 3).");
}

}  // namespace
}  // namespace kattn

namespace kattn {
namespace {

// (1, 2, 2, 2) channels_last: channel 0 holds 1, 2, 6, 3; channel 1 holds 10, 20, 60, 30.
const Tensor kImage({1, 2, 2, 2}, {1, 10, 2, 20, 6, 60, 3, 30});

TEST(GlobalPooling2D, ConfigsRoundTrip) {
  // conv2d_options's global_average_pooling2d entry (Keras 3.16, keepdims true).
  Config config = kQueryPool;
  config["name"] = "gap";
  config["keepdims"] = true;
  EXPECT_EQ(GlobalAveragePooling2D::from_config(config)->get_config(), config);
  EXPECT_EQ(GlobalMaxPooling2D::from_config(config)->get_config(), config);
  EXPECT_EQ(GlobalAveragePooling2D().name(), "global_average_pooling2d");
  EXPECT_EQ(GlobalMaxPooling2D().name(), "global_max_pooling2d");
  EXPECT_TRUE(GlobalMaxPooling2D().built());
  config["data_format"] = nullptr;
  EXPECT_EQ(GlobalMaxPooling2D::from_config(config)->data_format(), "channels_last");
}

TEST(GlobalPooling2D, ValuesShapesAndMasks) {
  EXPECT_EQ(GlobalAveragePooling2D().call(kImage).to_vector(), (std::vector<float>{3, 30}));
  EXPECT_EQ(GlobalMaxPooling2D().call(kImage).to_vector(), (std::vector<float>{6, 60}));
  const GlobalAveragePooling2D keep({.keepdims = true});
  EXPECT_EQ(keep.call(kImage).shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(keep.compute_output_shape({-1, -1, -1, 4}), (Shape{-1, 1, 1, 4}));
  // channels_first (1, 2, 2, 2): channels on axis 1.
  const GlobalMaxPooling2D first({.data_format = "channels_first", .keepdims = true});
  const Tensor y = first.call(kImage);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{20, 60}));
  EXPECT_EQ(GlobalAveragePooling2D({.data_format = "channels_first"}).call(kImage).to_vector(),
            (std::vector<float>{8.25f, 24.75f}));
  EXPECT_EQ(GlobalAveragePooling2D().compute_output_shape({-1, 3, 4, 5}), (Shape{-1, 5}));
  // No mask argument, and no mask passes on.
  EXPECT_EQ(GlobalAveragePooling2D().compute_mask(), std::nullopt);
  EXPECT_EQ(GlobalAveragePooling2D().call_parameters(), (std::vector<std::string>{"inputs"}));
  EXPECT_EQ(message_of<ValueError>([] {
              GlobalMaxPooling2D({.name = "g"}).call(Tensor({1, 3, 2}));
            }),
            "GlobalMaxPooling2D 'g': Input 0 is incompatible with the layer. Expected ndim=4. "
            "Received: ndim=3, shape=(1, 3, 2).");
}

TEST(GlobalPooling2D, BackwardMatchesDifferences) {
  const auto check = [](const UnaryLayer& layer, Tensor x) {
    const LayerForward forward = layer.forward(x);
    const Tensor d_output = testing::random_normal(forward.output.shape(), 3);
    std::vector<Tensor> weight_gradients = layer.zero_gradients();
    const Tensor d_inputs = layer.backward(forward, d_output, weight_gradients);
    const auto loss = [&] { return testing::dot_sum(layer.forward(x).output, d_output); };
    EXPECT_TRUE(testing::gradients_agree(d_inputs, testing::numeric_gradient(x, loss, 1e-3),
                                         testing::kFloatAtol, testing::kFloatRtol));
  };
  for (const std::string format : {"channels_last", "channels_first"}) {
    SCOPED_TRACE(format);
    check(GlobalAveragePooling2D({.data_format = format}), testing::random_normal({2, 3, 4, 2}, 1));
    check(GlobalMaxPooling2D({.data_format = format, .keepdims = true}),
          testing::random_normal({2, 3, 4, 2}, 2));
  }
}

}  // namespace
}  // namespace kattn
