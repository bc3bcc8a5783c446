// Conv1D: Keras's configs and messages, hand-computed padding cases, and Keras's own numbers
// from the text_dot golden model.
#include <gtest/gtest.h>

#include "kattn/layers/conv1d.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::golden_intermediate;
using testing::golden_model_weights;
using testing::message_of;

// The Conv1D entry of text_dot/model.keras config.json (shared_object_id dropped).
const Config kTextDotCnn = Config::parse(R"({
  "name": "cnn", "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null},
  "filters": 6, "kernel_size": [4], "strides": [1], "padding": "same",
  "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "linear",
  "use_bias": true,
  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                         "config": {"seed": null, "input_axes": null, "output_axes": null},
                         "registered_name": null},
  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                       "registered_name": null},
  "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
  "kernel_constraint": null, "bias_constraint": null})");

// x (1, L, 1) = 1, 2, ..., L.
Tensor ramp(int64_t length) {
  Tensor x({1, length, 1});
  for (int64_t i = 0; i < length; ++i) x.data()[i] = static_cast<float>(i + 1);
  return x;
}

// A one-channel, one-filter Conv1D with kernel `taps` and no bias.
std::vector<float> conv(Conv1D::Args args, const std::vector<float>& taps, int64_t length) {
  args.filters = 1;
  args.kernel_size = static_cast<int64_t>(taps.size());
  args.use_bias = false;
  Conv1D layer(std::move(args));
  layer.build({-1, -1, 1});
  layer.set_weight("kernel", Tensor({static_cast<int64_t>(taps.size()), 1, 1}, taps));
  return layer.call(ramp(length)).to_vector();
}

TEST(Conv1D, GoldenConfigRoundTrips) {
  const auto layer = Conv1D::from_config(kTextDotCnn);
  EXPECT_EQ(layer->get_config(), kTextDotCnn);
  EXPECT_EQ(Conv1D::from_config(layer->get_config())->get_config(), kTextDotCnn);
}

TEST(Conv1D, IntsInConfigsAndArgsAreWrittenAsLists) {
  Config config = kTextDotCnn;
  config["kernel_size"] = 3;
  config["strides"] = 2;
  config["dilation_rate"] = 1;
  const Config written = Conv1D::from_config(config)->get_config();
  EXPECT_EQ(written["kernel_size"], Config::parse("[3]"));
  EXPECT_EQ(written["strides"], Config::parse("[2]"));
  EXPECT_EQ(written["dilation_rate"], Config::parse("[1]"));
  Conv1D from_ints({.filters = 2, .kernel_size = 3, .strides = {2}});
  EXPECT_EQ(from_ints.get_config()["kernel_size"], Config::parse("[3]"));
  EXPECT_EQ(from_ints.get_config()["strides"], Config::parse("[2]"));
  EXPECT_EQ(from_ints.get_config()["padding"], "valid");
  EXPECT_EQ(from_ints.get_config()["activation"], "linear");
  EXPECT_EQ(from_ints.name(), "conv1d");
}

TEST(Conv1D, WeightsInKerasOrderAndShapes) {
  Conv1D layer({.filters = 6, .kernel_size = 4, .groups = 2, .name = "cnn"});
  EXPECT_EQ(layer.compute_output_shape({-1, -1, 8}), (Shape{-1, -1, 6}));
  layer.build({-1, -1, 8});
  ASSERT_EQ(layer.weights().size(), 2u);
  EXPECT_EQ(layer.weights()[0].name, "kernel");
  EXPECT_EQ(layer.weights()[0].value.shape(), (Shape{4, 4, 6}));  // (k, C / groups, filters)
  EXPECT_EQ(layer.weights()[1].name, "bias");
  EXPECT_EQ(layer.weights()[1].value.shape(), (Shape{6}));
  EXPECT_EQ(layer.weight_path(layer.weights()[0]), "cnn/kernel");
  layer.build({-1, -1, 2});  // a no-op once built
  EXPECT_EQ(layer.weights()[0].value.shape(), (Shape{4, 4, 6}));

  Conv1D no_bias({.filters = 3, .kernel_size = 2, .use_bias = false});
  no_bias.build({2, 5, 4});
  ASSERT_EQ(no_bias.weights().size(), 1u);
  EXPECT_EQ(no_bias.weights()[0].value.shape(), (Shape{2, 4, 3}));
}

TEST(Conv1D, OutputLengths) {
  const auto length = [](Conv1D::Args args, int64_t steps) {
    args.filters = 1;
    return Conv1D(std::move(args)).compute_output_shape({2, steps, 3})[1];
  };
  // valid: floor((L - (k - 1) * d - 1) / s) + 1; same and causal: ceil(L / s).
  EXPECT_EQ(length({.kernel_size = 3}, 7), 5);
  EXPECT_EQ(length({.kernel_size = 3, .strides = 2}, 7), 3);
  EXPECT_EQ(length({.kernel_size = 3, .strides = 2}, 8), 3);
  EXPECT_EQ(length({.kernel_size = 3, .dilation_rate = 2}, 7), 3);
  EXPECT_EQ(length({.kernel_size = 3}, 2), 0);  // Keras allows an empty output
  EXPECT_EQ(length({.kernel_size = 4, .padding = "same"}, 7), 7);
  EXPECT_EQ(length({.kernel_size = 4, .strides = 2, .padding = "same"}, 7), 4);
  EXPECT_EQ(length({.kernel_size = 4, .strides = 3, .padding = "causal"}, 7), 3);
  EXPECT_EQ(length({.kernel_size = 3}, -1), -1);  // None passes through
}

TEST(Conv1D, ValidPadding) {
  // y[i] = x[i] * 1 + x[i + 1] * 10 + x[i + 2] * 100 over x = 1..5.
  EXPECT_EQ(conv({}, {1, 10, 100}, 5), (std::vector<float>{321, 432, 543}));
  // Strides 2 over an odd length: i = 0, 2, 4 of the stride-1 output.
  EXPECT_EQ(conv({.strides = 2}, {1, 10, 100}, 7), (std::vector<float>{321, 543, 765}));
  // Dilation 2: x[i] + 10 x[i + 2] + 100 x[i + 4].
  EXPECT_EQ(conv({.dilation_rate = 2}, {1, 10, 100}, 6), (std::vector<float>{531, 642}));
}

TEST(Conv1D, SamePaddingPutsTheOddZeroAfter) {
  // k = 4, s = 1: total 3, one zero before and two after.
  EXPECT_EQ(conv({.padding = "same"}, {1, 10, 100, 1000}, 3), (std::vector<float>{3210, 321, 32}));
  // k = 3: one zero on each side.
  EXPECT_EQ(conv({.padding = "same"}, {1, 10, 100}, 3), (std::vector<float>{210, 321, 32}));
  // k = 3, s = 2, L = 5: out 3, total max(4 + 3 - 5, 0) = 2, one zero before.
  EXPECT_EQ(conv({.strides = 2, .padding = "SAME"}, {1, 10, 100}, 5),
            (std::vector<float>{210, 432, 54}));
  // k = 3, s = 2, L = 6: out 3, total 1: no zero before, one after.
  EXPECT_EQ(conv({.strides = 2, .padding = "same"}, {1, 10, 100}, 6),
            (std::vector<float>{321, 543, 65}));
  // k = 2, d = 2, L = 4: total 2, one zero before: x[i - 1] + 10 x[i + 1].
  EXPECT_EQ(conv({.padding = "same", .dilation_rate = 2}, {1, 10}, 4),
            (std::vector<float>{20, 31, 42, 3}));
}

TEST(Conv1D, CausalPaddingLooksOnlyBack) {
  // (k - 1) * d zeros before: y[i] = x[i - 2] + 10 x[i - 1] + 100 x[i].
  EXPECT_EQ(conv({.padding = "causal"}, {1, 10, 100}, 4), (std::vector<float>{100, 210, 321, 432}));
  // d = 2: y[i] = x[i - 2] + 10 x[i].
  EXPECT_EQ(conv({.padding = "causal", .dilation_rate = 2}, {1, 10}, 4),
            (std::vector<float>{10, 20, 31, 42}));
  // s = 2 over L = 5: i = 0, 2, 4.
  EXPECT_EQ(conv({.strides = 2, .padding = "causal"}, {1, 10, 100}, 5),
            (std::vector<float>{100, 321, 543}));
}

TEST(Conv1D, ChannelsFiltersGroupsBiasAndActivation) {
  // Two groups: filter 0 sees channel 0, filter 1 sees channel 1 (k = 1).
  Conv1D grouped({.filters = 2, .kernel_size = 1, .groups = 2});
  grouped.build({-1, -1, 2});
  grouped.set_weight("kernel", Tensor({1, 1, 2}, {2, 3}));
  grouped.set_weight("bias", Tensor({2}, {0.5f, -100}));
  const Tensor x({1, 2, 2}, {1, 10, 2, 20});
  EXPECT_EQ(grouped.call(x).to_vector(), (std::vector<float>{2.5f, -70, 4.5f, -40}));

  Conv1D relu({.filters = 2, .kernel_size = 1, .activation = ActivationFunction("relu")});
  relu.build({-1, -1, 2});
  relu.set_weight("kernel", Tensor({1, 2, 2}, {1, 0, 0, -1}));  // kernel[0, c, o]
  EXPECT_EQ(relu.call(x).to_vector(), (std::vector<float>{1, 0, 2, 0}));
}

TEST(Conv1D, KerasNumbersFromTextDot) {
  const WeightStore weights = golden_model_weights("text_dot");
  const auto layer = Conv1D::from_config(kTextDotCnn);
  layer->build({-1, -1, 8});
  layer->set_weights(weights.variables("layers/conv1d/vars"));
  for (const char* node : {"0", "1"}) {
    const std::string prefix = std::string("token_embedding.") + node;
    const Tensor input = std::get<Tensor>(golden_intermediate("text_dot", prefix + ".0"));
    const Tensor expected =
        std::get<Tensor>(golden_intermediate("text_dot", std::string("cnn.") + node + ".0"));
    expect_close(layer->call(input), expected);
  }
}

TEST(Conv1D, ArgumentErrors) {
  const auto error = [](Conv1D::Args args) {
    args.name = "c";
    return message_of<ValueError>([&] { Conv1D layer(std::move(args)); });
  };
  EXPECT_EQ(error({.filters = 0, .kernel_size = 3}),
            "Conv1D 'c': Invalid value for argument `filters`. Expected a positive integer. "
            "Received: filters=0.");
  EXPECT_EQ(error({.filters = 2}),
            "Conv1D 'c': The `kernel_size` argument must be a tuple of 1 integers. Expected one "
            "integer > 0. Received: kernel_size=0.");
  EXPECT_EQ(error({.filters = 2, .kernel_size = {3, 3}}),
            "Conv1D 'c': The `kernel_size` argument must be a tuple of 1 integers. Expected one "
            "integer > 0. Received: kernel_size=(3, 3).");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .strides = {0}}),
            "Conv1D 'c': The `strides` argument must be a tuple of 1 integers. Expected one "
            "integer > 0. Received: strides=(0,).");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .padding = "full"}),
            "Conv1D 'c': Invalid value for argument `padding`. Expected one of {'valid', 'same', "
            "'causal'}. Received: padding=full.");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .data_format = "nwc"}),
            "Conv1D 'c': Invalid value for argument `data_format`. Expected one of "
            "{'channels_first', 'channels_last'}. Received: data_format=nwc.");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .groups = 0}),
            "Conv1D 'c': Invalid value for argument `groups`. Expected a positive integer. "
            "Received: groups=0.");
  EXPECT_EQ(error({.filters = 3, .kernel_size = 3, .groups = 2}),
            "Conv1D 'c': The number of filters must be evenly divisible by the number of groups. "
            "Expected filters divisible by groups. Received: groups=2, filters=3.");
  EXPECT_EQ(error({.filters = 2, .kernel_size = 3, .strides = 2, .dilation_rate = 2}),
            "Conv1D 'c': `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            "Expected strides=(1,) or dilation_rate=(1,). Received: strides=(2,) and "
            "dilation_rate=(2,).");
}

TEST(Conv1D, ShapeErrors) {
  Conv1D layer({.filters = 2, .kernel_size = 3, .groups = 2, .name = "c"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({2, 5});
            }),
            "Conv1D 'c': Input 0 is incompatible with the layer. Expected ndim=3. Received: "
            "ndim=2, shape=(2, 5).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({2, 5, 3});
            }),
            "Conv1D 'c': The number of input channels must be evenly divisible by the number of "
            "groups. Expected channels divisible by groups=2. Received: shape=(2, 5, 3).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.build({2, 1, 4});
            }),
            "Conv1D 'c': Computed output size would be negative. Expected steps >= (kernel_size - "
            "1) * dilation_rate = 2. Received: inputs shape=(2, 1, 4), kernel_size=(3,), "
            "dilation_rate=(1,).");
  EXPECT_FALSE(layer.built());
  layer.build({-1, -1, 4});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({1, 5, 6}));
            }),
            "Conv1D 'c': Input 0 is incompatible with the layer. Expected a last dimension of 4. "
            "Received: shape=(1, 5, 6).");
}

TEST(Conv1D, ConfigErrors) {
  Config config = kTextDotCnn;
  config["lora_rank"] = 4;
  EXPECT_EQ(message_of<NotSupportedError>([&] { Conv1D::from_config(config); }),
            "Conv1D 'cnn': unsupported argument. Expected lora_rank=None. Received: lora_rank=4.");
  config = kTextDotCnn;
  config["lora_rank"] = nullptr;  // accepted as Keras's default
  EXPECT_EQ(Conv1D::from_config(config)->get_config(), kTextDotCnn);
  config["kernel_size"] = "4";
  EXPECT_EQ(message_of<ValueError>([&] { Conv1D::from_config(config); }),
            "Conv1D 'cnn': invalid config value for `kernel_size`. Expected an int or a list of "
            "ints. Received: kernel_size=\"4\".");
  config = kTextDotCnn;
  config["mask_zero"] = true;
  EXPECT_EQ(message_of<ValueError>([&] { Conv1D::from_config(config); }),
            "Conv1D 'cnn': unrecognized keyword arguments in the config. Expected only the keys "
            "of Conv1D.get_config(). Received: {'mask_zero': true}.");
}

}  // namespace
}  // namespace kattn
