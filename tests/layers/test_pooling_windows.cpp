// MaxPooling1D/2D and AveragePooling1D/2D: Keras's configs and argument errors, shapes, dropped
// masks and the layer's backward against central differences (the arithmetic itself is
// checked in tests/ops/test_window_pooling.cpp).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/pooling_windows.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_normal;

// pool1d_variants's avg_same_s2 entry of config.json (Keras 3.16, shared_object_id dropped).
const Config kAvgSame = Config::parse(R"({
  "name": "avg_same_s2", "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null},
  "pool_size": [3], "padding": "same", "strides": [2], "data_format": "channels_last"})");

TEST(BasePooling, KerasConfigsRoundTrip) {
  const auto average = AveragePooling1D::from_config(kAvgSame);
  EXPECT_EQ(average->get_config(), kAvgSame);
  EXPECT_TRUE(average->built());  // BasePooling.__init__: self._build_at_init()
  EXPECT_TRUE(average->weights().empty());
  Config max = kAvgSame;
  max["name"] = "max_valid";
  max["pool_size"] = {2};
  max["padding"] = "valid";
  max["strides"] = nullptr;  // None: pool_size
  const auto max_layer = MaxPooling1D::from_config(max);
  max["strides"] = {2};
  EXPECT_EQ(max_layer->get_config(), max);
  EXPECT_EQ(max_layer->class_name(), "MaxPooling1D");
  // Keras's defaults: pool_size 2 for every axis, strides = pool_size, valid, channels_last.
  EXPECT_EQ(MaxPooling2D().name(), "max_pooling2d");
  EXPECT_EQ(MaxPooling2D().get_config()["pool_size"], Config::parse("[2, 2]"));
  EXPECT_EQ(MaxPooling2D().get_config()["strides"], Config::parse("[2, 2]"));
  EXPECT_EQ(AveragePooling2D().name(), "average_pooling2d");
  EXPECT_EQ(AveragePooling1D().name(), "average_pooling1d");
  EXPECT_EQ(MaxPooling1D().name(), "max_pooling1d");
  Config two = MaxPooling2D({.pool_size = {2, 3}, .strides = IntOrList{1, 2}, .padding = "same"})
                   .get_config();
  EXPECT_EQ(MaxPooling2D::from_config(two)->get_config(), two);
  two["data_format"] = nullptr;
  EXPECT_EQ(MaxPooling2D::from_config(two)->data_format(), "channels_last");
}

TEST(BasePooling, ShapesAndMasks) {
  const MaxPooling2D same({.pool_size = {2, 3}, .strides = IntOrList{1, 2}, .padding = "same"});
  EXPECT_EQ(same.compute_output_shape({-1, 5, 7, 3}), (Shape{-1, 5, 4, 3}));
  EXPECT_EQ(same.compute_output_shape({-1, -1, 7, 3}), (Shape{-1, -1, 4, 3}));
  const AveragePooling2D first({.pool_size = 2, .data_format = "channels_first"});
  EXPECT_EQ(first.compute_output_shape({-1, 3, 5, 4}), (Shape{-1, 3, 2, 2}));
  EXPECT_EQ(
      AveragePooling1D({.pool_size = 3, .strides = IntOrList(1)}).compute_output_shape({2, 5, 4}),
      (Shape{2, 3, 4}));
  const Tensor x = random_normal({2, 6, 3}, 1);
  EXPECT_EQ(MaxPooling1D().compute_mask(x, Mask({2, 6})), std::nullopt);
}

TEST(BasePooling, Errors) {
  EXPECT_EQ(message_of<ValueError>([] {
              MaxPooling2D({.pool_size = {2, 2, 2}, .name = "p"});
            }),
            "MaxPooling2D 'p': The `pool_size` argument must be a tuple of 2 integers. Expected 2 "
            "integers > 0. Received: pool_size=(2, 2, 2).");
  EXPECT_EQ(message_of<ValueError>([] { MaxPooling1D({.pool_size = 0, .name = "p"}); }),
            "MaxPooling1D 'p': The `pool_size` argument must be a tuple of 1 integers. Expected "
            "one integer > 0. Received: pool_size=0.");
  EXPECT_EQ(message_of<ValueError>([] { AveragePooling1D({.padding = "causal", .name = "p"}); }),
            "AveragePooling1D 'p': Argument `padding` must be either 'valid' or 'same'. Expected "
            "'valid' or 'same'. Received: padding=causal.");
  EXPECT_EQ(message_of<ValueError>([] { AveragePooling2D({.data_format = "nchw", .name = "p"}); }),
            "AveragePooling2D 'p': Invalid value for argument `data_format`. Expected one of "
            "{'channels_first', 'channels_last'}. Received: data_format=nchw.");
  EXPECT_EQ(message_of<ValueError>([] {
              MaxPooling1D({.pool_size = 3, .name = "p"}).call(Tensor({1, 2, 4}));
            }),
            "MaxPooling1D 'p': Computed output size would be zero or negative. Expected windows "
            "that fit in the input. Received: inputs.shape=(1, 2, 4), pool_size=(3,), "
            "strides=(3,), padding=valid.");
  EXPECT_EQ(message_of<ValueError>([] {
              MaxPooling2D({.name = "p"}).call(Tensor({1, 2, 4}));
            }),
            "MaxPooling2D 'p': Input 0 is incompatible with the layer. Expected ndim=4. Received: "
            "ndim=3, shape=(1, 2, 4).");
  Config config = kAvgSame;
  config["keepdims"] = false;
  EXPECT_EQ(message_of<ValueError>([&] { AveragePooling1D::from_config(config); }),
            "AveragePooling1D 'avg_same_s2': unrecognized keyword arguments in the config. "
            "Expected only the keys of AveragePooling1D.get_config(). Received: "
            "{'keepdims': false}.");
}

// The layer's training pair against differences in float (random inputs: no ties).
TEST(BasePooling, BackwardMatchesDifferences) {
  const auto check = [](const BasePooling& layer, Tensor x) {
    const LayerForward forward = layer.forward(x);
    const Tensor d_output = random_normal(forward.output.shape(), 3);
    std::vector<Tensor> weight_gradients = layer.zero_gradients();
    const Tensor d_inputs = layer.backward(forward, d_output, weight_gradients);
    const auto loss = [&] { return dot_sum(layer.forward(x).output, d_output); };
    EXPECT_TRUE(gradients_agree(d_inputs, numeric_gradient(x, loss, 1e-3), testing::kFloatAtol,
                                testing::kFloatRtol));
  };
  check(MaxPooling1D({.pool_size = 3, .strides = IntOrList(2), .padding = "same"}),
        random_normal({2, 7, 3}, 4));
  check(AveragePooling1D({.pool_size = 2, .strides = IntOrList(1)}), random_normal({2, 5, 3}, 5));
  check(MaxPooling2D({.pool_size = {2, 3}, .strides = IntOrList{1, 2}, .padding = "same"}),
        random_normal({1, 4, 5, 2}, 6));
  check(AveragePooling2D({.pool_size = 2, .padding = "same", .data_format = "channels_first"}),
        random_normal({1, 2, 5, 3}, 7));
}

}  // namespace
}  // namespace kattn
