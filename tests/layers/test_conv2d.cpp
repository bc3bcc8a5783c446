// Conv2D: Keras's config and argument errors, Keras's numbers (groups, strides, "same",
// channels_first, dilation), Conv1D's channels_first, and the layer's backward against central
// differences in float.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/conv2d.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::expect_close;
using testing::gradients_agree;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_normal;

// conv2d_options's strided_valid_nobias entry of config.json (Keras 3.16).
const Config kStridedValid = Config::parse(R"({
  "name": "strided_valid_nobias", "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null},
  "filters": 5, "kernel_size": [3, 2], "strides": [2, 1], "padding": "valid",
  "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "tanh",
  "use_bias": false,
  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                         "config": {"seed": null, "input_axes": null, "output_axes": null},
                         "registered_name": null},
  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                       "registered_name": null},
  "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
  "kernel_constraint": null, "bias_constraint": null})");

// ((arange(n) * a) % m - c) / d as float32, the values of the Keras reference below.
Tensor pattern(const Shape& shape, int64_t a, int64_t m, int64_t c, float d) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>((i * a) % m - c) / d;
  return t;
}

TEST(Conv2D, KerasConfigRoundTripsAndWeights) {
  const auto layer = Conv2D::from_config(kStridedValid);
  EXPECT_EQ(layer->get_config(), kStridedValid);
  EXPECT_EQ(layer->kernel_size(), (std::vector<int64_t>{3, 2}));
  EXPECT_FALSE(layer->built());
  layer->build({-1, 7, 6, 4});
  ASSERT_EQ(layer->weights().size(), 1u);
  EXPECT_EQ(layer->weights()[0].value.shape(), (Shape{3, 2, 4, 5}));
  EXPECT_EQ(layer->compute_output_shape({-1, 7, 6, 4}), (Shape{-1, 3, 5, 5}));
  EXPECT_EQ(layer->compute_output_shape({-1, -1, 6, 4}), (Shape{-1, -1, 5, 5}));
  const Conv2D grouped({.filters = 6, .kernel_size = 3, .padding = "same", .groups = 3});
  EXPECT_EQ(grouped.name(), "conv2d");
  EXPECT_EQ(grouped.get_config()["kernel_size"], Config::parse("[3, 3]"));
  Conv2D first({.filters = 6, .kernel_size = 3, .data_format = "channels_first", .groups = 3});
  first.build({-1, 6, 5, 5});
  EXPECT_EQ(first.weights()[0].value.shape(), (Shape{3, 3, 2, 6}));
  EXPECT_EQ(first.compute_output_shape({-1, 6, 5, 5}), (Shape{-1, 6, 3, 3}));
  EXPECT_EQ(first.compute_mask(Tensor({1, 6, 5, 5}), Mask({1, 6})), std::nullopt);
}

// Keras 3.15's numpy backend: x = ((arange(80) * 3) % 11 - 5) / 5 as (1, 4, 5, 4);
// Conv2D(4, (2, 3), strides=(2, 1), padding="same", groups=2, activation="tanh") with kernel
// ((arange(48) * 5) % 7 - 3) / 4 and bias (0.1, -0.2, 0.3, -0.4); then
// Conv2D(3, 2, dilation_rate=(1, 2), use_bias=False, data_format="channels_first") on x
// transposed to (1, 4, 4, 5) with kernel ((arange(48) * 5) % 7 - 3) / 4 as (2, 2, 4, 3).
TEST(Conv2D, KerasNumbers) {
  const Tensor x = pattern({1, 4, 5, 4}, 3, 11, 5, 5);
  Conv2D grouped({.filters = 4,
                  .kernel_size = {2, 3},
                  .strides = {2, 1},
                  .padding = "same",
                  .groups = 2,
                  .activation = ActivationFunction("tanh")});
  grouped.build(x.shape());
  grouped.set_weights({pattern({2, 3, 2, 4}, 5, 7, 3, 4), Tensor({4}, {0.1f, -0.2f, 0.3f, -0.4f})});
  expect_close(
      grouped.call(x),
      Tensor({1, 2, 5, 4},
             {-0.099668f, -0.0f,      0.861723f,  0.244919f,  0.291313f, -0.604368f, -0.379949f,
              0.421899f,  0.421899f,  0.379949f,  0.800499f,  -0.53705f, -0.462117f, 0.379949f,
              0.905148f,  0.800499f,  0.833655f,  -0.291313f, 0.197375f, 0.604368f,  0.53705f,
              0.379949f,  0.716298f,  -0.951746f, -0.905148f, 0.379949f, 0.885352f,  -0.148885f,
              0.291313f,  -0.604368f, -0.379949f, 0.421899f,  0.421899f, 0.379949f,  0.800499f,
              -0.53705f,  -0.53705f,  0.379949f,  0.53705f,   0.691069f}),
      2e-6, 1e-5);
  Conv2D first({.filters = 3,
                .kernel_size = 2,
                .data_format = "channels_first",
                .dilation_rate = {1, 2},
                .use_bias = false});
  const Tensor xf = x.transpose(1, 3).transpose(2, 3);  // (1, 4, 4, 5)
  first.build(xf.shape());
  first.set_weights({pattern({2, 2, 4, 3}, 5, 7, 3, 4)});
  expect_close(
      first.call(xf),
      Tensor({1, 3, 3, 3}, {3.1f,   1.2f,   0.95f, -1.45f, -0.6f,  -0.85f, 0.05f, 3.1f,   1.2f,
                            -1.45f, -1.75f, -0.4f, 3.1f,   0.05f,  0.3f,   -0.6f, -1.45f, -1.75f,
                            0.3f,   0.9f,   -0.7f, -1.1f,  -1.05f, -1.0f,  1.9f,  0.3f,   0.9f}),
      1e-5, 1e-5);
}

// Conv1D's channels_first is its channels_last on the transposed steps.
TEST(Conv2D, Conv1DChannelsFirstIsTheTransposedChannelsLast) {
  Conv1D last({.filters = 3, .kernel_size = 3, .padding = "causal", .dilation_rate = 2});
  Conv1D first({.filters = 3,
                .kernel_size = 3,
                .padding = "causal",
                .data_format = "channels_first",
                .dilation_rate = 2});
  const Tensor x = random_normal({2, 6, 4}, 1);
  last.build(x.shape());
  first.build({2, 4, 6});
  const std::vector<Tensor> weights = {random_normal({3, 4, 3}, 2), random_normal({3}, 3)};
  last.set_weights(weights);
  first.set_weights(weights);
  expect_close(first.call(x.transpose(1, 2)), last.call(x).transpose(1, 2), 1e-6, 1e-6);
  EXPECT_EQ(first.get_config()["data_format"], "channels_first");
}

TEST(Conv2D, Errors) {
  const auto error = [](Conv2D::Args args) {
    args.name = "c";
    return message_of<ValueError>([&] { Conv2D layer(std::move(args)); });
  };
  EXPECT_EQ(error({.filters = 2, .kernel_size = {3, 3, 3}}),
            "Conv2D 'c': The `kernel_size` argument must be a tuple of 2 integers. Expected 2 "
            "integers > 0. Received: kernel_size=(3, 3, 3).");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .padding = "causal"}),
            "Conv2D 'c': Invalid value for argument `padding`. Expected one of {'valid', 'same'}. "
            "Received: padding=causal.");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .strides = {1, 2}, .dilation_rate = {2, 1}}),
            "Conv2D 'c': `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            "Expected strides=(1, 1) or dilation_rate=(1, 1). Received: strides=(1, 2) and "
            "dilation_rate=(2, 1).");
  EXPECT_EQ(error({.filters = 0, .kernel_size = 3}),
            "Conv2D 'c': Invalid value for argument `filters`. Expected a positive integer. "
            "Received: filters=0.");
  Conv2D layer({.filters = 2, .kernel_size = 3, .name = "c"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({1, 5, 4});
            }),
            "Conv2D 'c': Input 0 is incompatible with the layer. Expected ndim=4. Received: "
            "ndim=3, shape=(1, 5, 4).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({1, 1, 5, 4});
            }),
            "Conv2D 'c': Computed output size would be negative. Expected steps >= (kernel_size - "
            "1) * dilation_rate = 2. Received: inputs shape=(1, 1, 5, 4), kernel_size=(3, 3), "
            "dilation_rate=(1, 1).");
  layer.build({-1, -1, -1, 4});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({1, 5, 5, 3}));
            }),
            "Conv2D 'c': Input 0 is incompatible with the layer. Expected a last dimension of 4. "
            "Received: shape=(1, 5, 5, 3).");
  Config config = kStridedValid;
  config["padding"] = "full";
  EXPECT_EQ(message_of<ValueError>([&] { Conv2D::from_config(config); }),
            "Conv2D 'strided_valid_nobias': Invalid value for argument `padding`. Expected one of "
            "{'valid', 'same'}. Received: padding=full.");
}

TEST(Conv2D, BackwardMatchesDifferences) {
  const auto check = [](Conv2D::Args args, const Shape& shape) {
    Conv2D layer(std::move(args));
    layer.build(shape);
    std::vector<Tensor> weights = layer.get_weights();
    for (size_t i = 0; i < weights.size(); ++i) {
      weights[i] = random_normal(weights[i].shape(), 10 + i);
    }
    layer.set_weights(weights);
    Tensor x = random_normal(shape, 1);
    const LayerForward forward = layer.forward(x);
    const Tensor d_output = random_normal(forward.output.shape(), 2);
    std::vector<Tensor> weight_gradients = layer.zero_gradients();
    const Tensor d_inputs = layer.backward(forward, d_output, weight_gradients);
    const auto loss = [&] { return dot_sum(layer.forward(x).output, d_output); };
    EXPECT_TRUE(gradients_agree(d_inputs, numeric_gradient(x, loss, testing::kFloatStep),
                                testing::kFloatAtol, testing::kFloatRtol));
    for (size_t i = 0; i < weights.size(); ++i) {
      const auto weight_loss = [&] {
        layer.set_weights(weights);
        return dot_sum(layer.forward(x).output, d_output);
      };
      EXPECT_TRUE(gradients_agree(weight_gradients[i],
                                  numeric_gradient(weights[i], weight_loss, testing::kFloatStep),
                                  testing::kFloatAtol, testing::kFloatRtol))
          << layer.weights()[i].name;
    }
  };
  check({.filters = 4,
         .kernel_size = {2, 3},
         .strides = {2, 1},
         .padding = "same",
         .groups = 2,
         .activation = ActivationFunction("tanh")},
        {2, 5, 4, 4});
  check({.filters = 3,
         .kernel_size = 2,
         .padding = "same",
         .data_format = "channels_first",
         .dilation_rate = 2},
        {1, 2, 5, 4});
}

}  // namespace
}  // namespace kattn
