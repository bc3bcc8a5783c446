// Keras's reshaping layers (Reshape, Flatten, Permute, Cropping1D, ZeroPadding1D,
// UpSampling1D): Keras's configs and argument errors,
// row-major values, symbolic shapes, dropped masks, and backward() against central differences.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/cropping1d.hpp"
#include "kattn/layers/flatten.hpp"
#include "kattn/layers/permute.hpp"
#include "kattn/layers/repeat_vector.hpp"
#include "kattn/layers/reshape.hpp"
#include "kattn/layers/up_sampling1d.hpp"
#include "kattn/layers/zero_padding1d.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_normal;

// 0, 1, 2, ... in a tensor of `shape`.
Tensor iota(const Shape& shape) {
  Tensor x(shape);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
  return x;
}

// A config as Keras 3.16 writes it for a layer of this name, with the layer's own keys added.
Config keras_config(const std::string& name, const Config& own) {
  Config config = Config::parse(R"({
    "name": "", "trainable": true,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": null}})");
  config["name"] = name;
  config.update(own);
  return config;
}

// backward() against differences of sum(forward(x).output * d_output) (x may be a view; the
// differences move the elements of a contiguous copy); and no mask passes on.
void expect_backward_matches_differences(const ReshapingLayer& layer, const Tensor& x) {
  const LayerForward forward = layer.forward(x);
  const Tensor d_output = random_normal(forward.output.shape(), 7);
  std::vector<Tensor> weight_gradients = layer.zero_gradients();
  const Tensor d_inputs = layer.backward(forward, d_output, weight_gradients);
  Tensor probe = x.clone();
  const auto loss = [&] { return dot_sum(layer.forward(probe).output, d_output); };
  EXPECT_TRUE(gradients_agree(d_inputs, numeric_gradient(probe, loss, testing::kFloatStep),
                              testing::kFloatAtol, testing::kFloatRtol));
  EXPECT_TRUE(weight_gradients.empty());
  const Shape mask_shape(x.shape().begin(), x.shape().begin() + 2);
  EXPECT_EQ(layer.compute_mask(x, Mask(mask_shape)), std::nullopt);
}

// ---- Reshape

TEST(Reshape, KerasConfigRoundTrips) {
  // shape_permute_reshape_flatten's reshape (Keras 3.16).
  const Config config = keras_config("reshape", {{"target_shape", {3, 5}}});
  const auto layer = Reshape::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_TRUE(layer->built());
  EXPECT_TRUE(layer->weights().empty());
  EXPECT_EQ(Reshape({.target_shape = {-1, 2}}).get_config(),
            keras_config("reshape", {{"target_shape", {-1, 2}}}));
}

TEST(Reshape, RowMajorValuesAndShapes) {
  const Reshape layer({.target_shape = {3, 4}});
  const Tensor x = iota({2, 4, 3});
  const Tensor y = layer.call(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(y.to_vector(), x.to_vector());
  // -1 takes what the other sizes leave; from a transposed view the row-major order counts.
  const Tensor t = layer.call(x.transpose(1, 2));  // (2, 3, 4)
  EXPECT_EQ(t.to_vector(), x.transpose(1, 2).contiguous().to_vector());
  EXPECT_EQ(Reshape({.target_shape = {-1, 2, 2}}).call(x).shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(Reshape({.target_shape = {-1}}).call(Tensor({0, 4, 3})).shape(), (Shape{0, 12}));
  EXPECT_EQ(layer.compute_output_shape({-1, 6, 2}), (Shape{-1, 3, 4}));
  EXPECT_EQ(Reshape({.target_shape = {-1, 4}}).compute_output_shape({-1, 6, 2}), (Shape{-1, 3, 4}));
  // An unknown input size leaves the -1 unknown.
  EXPECT_EQ(Reshape({.target_shape = {-1, 4}}).compute_output_shape({-1, -1, 2}),
            (Shape{-1, -1, 4}));
}

TEST(Reshape, Errors) {
  EXPECT_EQ(message_of<ValueError>([] {
              Reshape({.target_shape = {-2, 3}, .name = "r"});
            }),
            "Reshape 'r': Each dimension in `target_shape` must be a non-negative integer, or "
            "`-1` for a single unknown dimension. Expected dimensions >= -1. Received: "
            "target_shape=(-2, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              Reshape({.target_shape = {-1, -1}, .name = "r"});
            }),
            "Reshape 'r': There must be at most one unknown dimension (-1) in `target_shape`. "
            "Expected at most one -1. Received: target_shape=(-1, -1).");
  const Reshape layer({.target_shape = {3, 5}, .name = "r"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 8, 5}));
            }),
            "Reshape 'r': The total size of the tensor must be unchanged. Expected a "
            "target_shape of 40 elements. Received: input_shape=(8, 5), target_shape=(3, 5).");
  EXPECT_EQ(message_of<ValueError>([] {
              Reshape({.target_shape = {3, -1}, .name = "r"}).compute_output_shape({-1, 8});
            }),
            "Reshape 'r': The total size of the tensor must be unchanged, however, the input size "
            "cannot by divided by the specified dimensions in target_shape. Expected dimensions "
            "whose product divides 8. Received: input_shape=(8,), target_shape=(3, -1).");
  Config config = keras_config("r", {{"target_shape", 3}});
  EXPECT_EQ(message_of<ValueError>([&] { Reshape::from_config(config); }),
            "Reshape 'r': invalid config value for `target_shape`. Expected a list of ints. "
            "Received: target_shape=3.");
  config.erase("target_shape");
  EXPECT_EQ(message_of<ValueError>([&] { Reshape::from_config(config); }),
            "Reshape 'r': invalid config value for `target_shape`. Expected a list of ints. "
            "Received: target_shape=missing.");
}

TEST(Reshape, BackwardMatchesDifferences) {
  expect_backward_matches_differences(Reshape({.target_shape = {-1, 2}}),
                                      random_normal({2, 3, 4}, 1));
  expect_backward_matches_differences(Reshape({.target_shape = {4, 3}}),
                                      random_normal({2, 3, 4}, 2).transpose(1, 2));
}

// ---- Flatten

TEST(Flatten, KerasConfigRoundTrips) {
  const Config config = keras_config("flatten", {{"data_format", "channels_last"}});
  const auto layer = Flatten::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_EQ(Flatten().get_config(), config);
  Config first = config;
  first["data_format"] = "Channels_First";
  EXPECT_EQ(Flatten::from_config(first)->data_format(), "channels_first");
  first["data_format"] = nullptr;  // Keras's default image_data_format
  EXPECT_EQ(Flatten::from_config(first)->data_format(), "channels_last");
}

TEST(Flatten, ValuesAndShapes) {
  const Tensor x = iota({2, 3, 2, 2});
  const Tensor last = Flatten().call(x);
  EXPECT_EQ(last.shape(), (Shape{2, 12}));
  EXPECT_EQ(last.to_vector(), x.to_vector());
  // channels_first: (B, C, H, W) -> (B, H, W, C) first. numpy:
  // np.arange(24).reshape(2, 3, 2, 2).transpose(0, 2, 3, 1).reshape(2, -1)[0]
  const Tensor first = Flatten({.data_format = "channels_first"}).call(x);
  EXPECT_EQ(first.shape(), (Shape{2, 12}));
  const std::vector<float> values = first.to_vector();
  EXPECT_EQ(std::vector<float>(values.begin(), values.begin() + 12),
            (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  // Rank 2 is unchanged either way; (B,) becomes (B, 1).
  EXPECT_EQ(Flatten({.data_format = "channels_first"}).call(iota({2, 3})).to_vector(),
            iota({2, 3}).to_vector());
  EXPECT_EQ(Flatten().call(iota({4})).shape(), (Shape{4, 1}));
  EXPECT_EQ(Flatten().compute_output_shape({-1, 3, 5}), (Shape{-1, 15}));
  EXPECT_EQ(Flatten().compute_output_shape({-1, -1, 5}), (Shape{-1, -1}));
  EXPECT_EQ(Flatten().compute_output_shape({-1}), (Shape{-1, 1}));
}

TEST(Flatten, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { Flatten({.data_format = "nhwc", .name = "f"}); }),
            "Flatten 'f': Invalid value for argument `data_format`. Expected one of "
            "{'channels_first', 'channels_last'}. Received: data_format=nhwc.");
  EXPECT_EQ(message_of<ValueError>([] { Flatten({.name = "f"}).compute_output_shape({}); }),
            "Flatten 'f': Input 0 is incompatible with the layer. Expected min_ndim=1. Received: "
            "ndim=0, shape=().");
  Config config = keras_config("f", {{"data_format", "channels_last"}, {"dims", {1}}});
  EXPECT_EQ(message_of<ValueError>([&] { Flatten::from_config(config); }),
            "Flatten 'f': unrecognized keyword arguments in the config. Expected only the keys of "
            "Flatten.get_config(). Received: {'dims': [1]}.");
}

TEST(Flatten, BackwardMatchesDifferences) {
  expect_backward_matches_differences(Flatten(), random_normal({2, 3, 4}, 3));
  expect_backward_matches_differences(Flatten({.data_format = "channels_first"}),
                                      random_normal({2, 3, 2, 2}, 4));
}

// ---- Permute

TEST(Permute, KerasConfigRoundTrips) {
  // shape_permute_reshape_flatten's permute (Keras 3.16).
  const Config config = keras_config("permute", {{"dims", {2, 1}}});
  const auto layer = Permute::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_EQ(layer->dims(), (std::vector<int64_t>{2, 1}));
  // Unlike Reshape, Keras builds Permute and Flatten on their first call (and records it).
  EXPECT_FALSE(layer->built());
  layer->build({-1, 8, 5});
  EXPECT_TRUE(layer->built());
}

TEST(Permute, ValuesAndShapes) {
  const Tensor x = iota({2, 3, 4, 5});
  const Permute layer({.dims = {3, 1, 2}});
  const Tensor y = layer.call(x);
  ASSERT_EQ(y.shape(), (Shape{2, 5, 3, 4}));
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < 5; ++i) {
      for (int64_t j = 0; j < 3; ++j) {
        for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(y(b, i, j, k), x(b, j, k, i));
      }
    }
  }
  EXPECT_EQ(layer.compute_output_shape({-1, 3, -1, 5}), (Shape{-1, 5, 3, -1}));
  EXPECT_EQ(Permute({.dims = {1, 2}}).call(x.slice(3, 0, 1).reshape({2, 3, 4})).to_vector(),
            x.slice(3, 0, 1).contiguous().to_vector());
}

TEST(Permute, Errors) {
  EXPECT_EQ(message_of<ValueError>([] {
              Permute({.dims = {0, 1}, .name = "p"});
            }),
            "Permute 'p': Invalid permutation argument `dims` for Permute Layer. The set of "
            "indices in `dims` must be consecutive and start from 1. Expected a permutation of "
            "1, ..., 2. Received: dims=(0, 1).");
  EXPECT_EQ(message_of<ValueError>([] {
              Permute({.dims = {2, 2}, .name = "p"});
            }),
            "Permute 'p': Invalid permutation argument `dims` for Permute Layer. The set of "
            "indices in `dims` must be consecutive and start from 1. Expected a permutation of "
            "1, ..., 2. Received: dims=(2, 2).");
  EXPECT_EQ(message_of<ValueError>([] {
              Permute({.dims = {2, 1}, .name = "p"}).call(Tensor({2, 3}));
            }),
            "Permute 'p': Input 0 is incompatible with the layer. Expected ndim=3. Received: "
            "ndim=2, shape=(2, 3).");
}

TEST(Permute, BackwardMatchesDifferences) {
  expect_backward_matches_differences(Permute({.dims = {2, 1}}), random_normal({2, 3, 4}, 5));
  expect_backward_matches_differences(Permute({.dims = {3, 1, 2}}), random_normal({2, 2, 3, 4}, 6));
}

// ---- Cropping1D, ZeroPadding1D, UpSampling1D

TEST(Cropping1D, ConfigValuesAndErrors) {
  // shape_crop_pad_upsample's crop (Keras 3.16).
  const Config config = keras_config("crop", {{"cropping", {1, 1}}});
  const auto layer = Cropping1D::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_EQ(Cropping1D().get_config(), keras_config("cropping1d", {{"cropping", {1, 1}}}));
  EXPECT_EQ(Cropping1D({.cropping = 2}).cropping(), (std::vector<int64_t>{2, 2}));
  const Tensor x = iota({2, 5, 2});
  const Tensor y = Cropping1D({.cropping = {2, 0}}).call(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19}));
  EXPECT_EQ(layer->compute_output_shape({-1, 6, 3}), (Shape{-1, 4, 3}));
  EXPECT_EQ(layer->compute_output_shape({-1, -1, 3}), (Shape{-1, -1, 3}));
  EXPECT_EQ(message_of<ValueError>([] {
              Cropping1D({.cropping = {1, -1}, .name = "c"});
            }),
            "Cropping1D 'c': The `cropping` argument must be a tuple of 2 integers. Expected 2 "
            "integers >= 0. Received: cropping=(1, -1).");
  EXPECT_EQ(message_of<ValueError>([] {
              Cropping1D({.cropping = {1, 2, 3}, .name = "c"});
            }),
            "Cropping1D 'c': The `cropping` argument must be a tuple of 2 integers. Expected 2 "
            "integers >= 0. Received: cropping=(1, 2, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              Cropping1D({.cropping = {2, 3}, .name = "c"}).call(Tensor({1, 5, 2}));
            }),
            "Cropping1D 'c': `cropping` parameter of `Cropping1D` layer must be smaller than the "
            "input length. Expected a cropping that leaves at least one step. Received: "
            "input_shape=(1, 5, 2), cropping=(2, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              Cropping1D({.name = "c"}).call(Tensor({2, 5}));
            }),
            "Cropping1D 'c': Input 0 is incompatible with the layer. Expected ndim=3. Received: "
            "ndim=2, shape=(2, 5).");
}

TEST(ZeroPadding1D, ConfigValuesAndErrors) {
  // shape_crop_pad_upsample's pad (Keras 3.16).
  const Config config =
      keras_config("pad", {{"padding", {2, 1}}, {"data_format", "channels_last"}});
  const auto layer = ZeroPadding1D::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  EXPECT_EQ(ZeroPadding1D().padding(), (std::vector<int64_t>{1, 1}));
  const Tensor x = iota({1, 2, 2});
  EXPECT_EQ(layer->call(x).to_vector(), (std::vector<float>{0, 0, 0, 0, 0, 1, 2, 3, 0, 0}));
  EXPECT_EQ(layer->call(x).shape(), (Shape{1, 5, 2}));
  const ZeroPadding1D first({.padding = {0, 2}, .data_format = "channels_first"});
  EXPECT_EQ(first.call(x).to_vector(), (std::vector<float>{0, 1, 0, 0, 2, 3, 0, 0}));
  EXPECT_EQ(first.compute_output_shape({-1, 3, 4}), (Shape{-1, 3, 6}));
  EXPECT_EQ(layer->compute_output_shape({-1, -1, 4}), (Shape{-1, -1, 4}));
  EXPECT_EQ(message_of<ValueError>([] { ZeroPadding1D({.padding = -1, .name = "z"}); }),
            "ZeroPadding1D 'z': The `padding` argument must be a tuple of 2 integers. Expected 2 "
            "integers >= 0. Received: padding=-1.");
  EXPECT_EQ(message_of<ValueError>([] { ZeroPadding1D({.data_format = "ncw", .name = "z"}); }),
            "ZeroPadding1D 'z': Invalid value for argument `data_format`. Expected one of "
            "{'channels_first', 'channels_last'}. Received: data_format=ncw.");
}

TEST(UpSampling1D, ConfigValuesAndErrors) {
  // shape_crop_pad_upsample's upsample (Keras 3.16).
  const Config config = keras_config("upsample", {{"size", 2}});
  const auto layer = UpSampling1D::from_config(config);
  EXPECT_EQ(layer->get_config(), config);
  const Tensor x = iota({1, 2, 2});
  const Tensor y = UpSampling1D({.size = 3}).call(x);
  EXPECT_EQ(y.shape(), (Shape{1, 6, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3}));
  EXPECT_EQ(layer->compute_output_shape({-1, 4, 3}), (Shape{-1, 8, 3}));
  EXPECT_EQ(layer->compute_output_shape({-1, -1, 3}), (Shape{-1, -1, 3}));
  EXPECT_EQ(message_of<ValueError>([] { UpSampling1D({.size = 0, .name = "u"}); }),
            "UpSampling1D 'u': Argument `size` should be a positive integer. Expected size > 0. "
            "Received: size=0.");
}

TEST(Reshaping1D, BackwardMatchesDifferences) {
  const Tensor x = random_normal({2, 5, 3}, 8);
  expect_backward_matches_differences(Cropping1D({.cropping = {2, 1}}), x);
  expect_backward_matches_differences(Cropping1D({.cropping = {0, 3}}), x);
  expect_backward_matches_differences(ZeroPadding1D({.padding = {2, 1}}), x);
  expect_backward_matches_differences(
      ZeroPadding1D({.padding = 1, .data_format = "channels_first"}), x);
  expect_backward_matches_differences(UpSampling1D({.size = 3}), x);
  expect_backward_matches_differences(RepeatVector({.n = 3}), random_normal({2, 4}, 9));
}

// Keras builds RepeatVector (like Flatten and Permute) on its first call, and records it.
TEST(Reshaping1D, RepeatVectorIsBuiltOnItsFirstCall) {
  RepeatVector layer({.n = 2});
  EXPECT_FALSE(layer.built());
  layer.build({-1, 4});
  EXPECT_TRUE(layer.built());
  EXPECT_TRUE(layer.records_build_config());
  EXPECT_FALSE(Reshape({.target_shape = {2}}).records_build_config());
}

}  // namespace
}  // namespace kattn
