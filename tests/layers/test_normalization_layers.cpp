// BatchNormalization, GroupNormalization, UnitNormalization and RMSNormalization: Keras's
// arguments and errors, weights, the training rules (batch and masked moments, the moving
// update) against hand computations, and backward() against central finite differences for
// each option. Keras's own numbers are the golden zoo's norm_* cases.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "kattn/layers/batch_normalization.hpp"
#include "kattn/layers/group_normalization.hpp"
#include "kattn/layers/rms_normalization.hpp"
#include "kattn/layers/unit_normalization.hpp"
#include "layer_backward_check.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_gradients_match_differences;
using testing::LayerCall;
using testing::message_of;
using testing::random_normal;
using testing::unary_call;

template <typename L>
std::function<std::unique_ptr<L>()> built(typename L::Args args, Shape shape) {
  return [args, shape] {
    auto layer = std::make_unique<L>(args);
    layer->build(shape);
    return layer;
  };
}

TEST(BatchNormalization, WeightsInKerasOrder) {
  BatchNormalization all;
  all.build({-1, 6, 5});
  std::vector<std::string> names;
  for (const Variable& v : all.weights()) names.push_back(v.name + (v.trainable ? "" : "*"));
  EXPECT_EQ(names, (std::vector<std::string>{"gamma", "beta", "moving_mean*", "moving_variance*"}));
  BatchNormalization no_scale({.axis = 1, .scale = false});
  no_scale.build({-1, 6, 5});
  EXPECT_EQ(no_scale.weights()[0].name, "beta");
  EXPECT_EQ(no_scale.weights()[0].value.shape(), (Shape{6}));
  EXPECT_EQ(no_scale.get_config()["renorm"], false);
  // renorm's settings, unused with renorm=False, are written back as given.
  Config config = no_scale.get_config();
  config["renorm_momentum"] = 0.5;
  config["renorm_clipping"] = Config{{"rmax", 3.0}};
  EXPECT_EQ(BatchNormalization::from_config(config)->get_config(), config);
}

TEST(BatchNormalization, InferenceUsesTheMovingStatistics) {
  BatchNormalization layer({.epsilon = 0.0});
  layer.build({-1, 2});
  layer.set_weights(
      {Tensor({2}, {2, 1}), Tensor({2}, {0.5f, 0}), Tensor({2}, {1, -1}), Tensor({2}, {4, 1})});
  // (x - mean) / sqrt(var) * gamma + beta
  EXPECT_EQ(layer.call(Tensor({1, 2}, {3, 1})).to_vector(), (std::vector<float>{2.5f, 2}));
}

TEST(BatchNormalization, TrainingUsesTheBatchAndMovesTheStatistics) {
  BatchNormalization layer({.momentum = 0.9, .epsilon = 0.0});
  layer.build({-1, 1});
  const Tensor x({4, 1}, {1, 2, 3, 6});  // mean 3, variance 3.5
  const Tensor y = layer.forward(x).output;
  const float s = std::sqrt(3.5f);
  const std::vector<float> expected = {-2 / s, -1 / s, 0, 3 / s};
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(y.data()[i], expected[size_t(i)], 1e-6);
  EXPECT_NEAR(layer.weight("moving_mean").data()[0], 0.3f, 1e-6);       // 0.9 * 0 + 0.1 * 3
  EXPECT_NEAR(layer.weight("moving_variance").data()[0], 1.25f, 1e-6);  // 0.9 + 0.35
  // A mask (batch, steps) leaves the masked steps out of the moments.
  BatchNormalization masked({.momentum = 0.0, .epsilon = 0.0});
  masked.build({-1, 2, 1});
  masked.forward_masked(Tensor({2, 2, 1}, {1, 100, 3, -50}),
                        Mask({2, 2}, {true, false, true, false}));
  EXPECT_NEAR(masked.weight("moving_mean").data()[0], 2.0f, 1e-5);
  EXPECT_NEAR(masked.weight("moving_variance").data()[0], 1.0f, 1e-5);
  // A layer that is not trainable keeps its statistics, as in Keras.
  BatchNormalization frozen({.trainable = false});
  frozen.build({-1, 1});
  frozen.forward(x);
  EXPECT_EQ(frozen.weight("moving_mean").data()[0], 0.0f);
}

TEST(BatchNormalization, Errors) {
  BatchNormalization layer({.axis = 2, .name = "bn"});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 3}));
            }),
            "BatchNormalization 'bn': Axis 2 is out of bounds for the inputs. Expected an axis in "
            "[-2, 2). Received: axis=2 for inputs of rank 2.");
  BatchNormalization masked({.name = "bn"});
  EXPECT_EQ(message_of<ValueError>([&] {
              masked.call_masked(Tensor({2, 3}), Mask({2, 3}));
            }),
            "BatchNormalization 'bn': The mask provided should be one dimension less than the "
            "inputs. Expected a mask of rank 1. Received: mask.shape=(2, 3), inputs.shape=(2, 3).");
  Config config = BatchNormalization().get_config();
  config["renorm"] = true;
  EXPECT_EQ(message_of<NotSupportedError>([&] { BatchNormalization::from_config(config); }),
            "BatchNormalization 'batch_normalization': unsupported argument. Expected "
            "renorm=False. Received: renorm=True.");
}

TEST(BatchNormalization, BackwardMatchesDifferences) {
  const Tensor x = random_normal({4, 3, 2}, 1);
  const Mask mask({4, 3},
                  {true, true, false, true, false, true, true, true, true, false, true, true});
  for (const int64_t axis : {-1, 1}) {
    for (const bool training : {false, true}) {
      for (const bool masked : {false, true}) {
        SCOPED_TRACE(std::to_string(axis) + (training ? " training" : " inference") +
                     (masked ? " masked" : ""));
        const BatchNormalization::Args args{.axis = axis, .epsilon = 0.01};
        const LayerCall<BatchNormalization> call{
            built<BatchNormalization>(args, {4, 3, 2}),
            [&](const BatchNormalization& layer, const std::vector<Tensor>& in) {
              const std::optional<Mask> m = masked ? std::optional(mask) : std::nullopt;
              return training ? layer.forward_masked(in[0], m) : layer.forward_inference(in[0], m);
            },
            [](const BatchNormalization& layer, const LayerForward& f, const Tensor& d,
               std::vector<Tensor>& wg) { return std::vector<Tensor>{layer.backward(f, d, wg)}; },
            [](std::vector<Tensor>& weights) {  // moving_variance, last, positive
              Tensor& variance = weights.back();
              for (int64_t i = 0; i < variance.size(); ++i) {
                variance.data()[i] = 0.5f + std::abs(variance.data()[i]);
              }
            }};
        expect_gradients_match_differences(call, {x});
      }
    }
  }
}

TEST(GroupNormalization, GroupsAndErrors) {
  GroupNormalization instance({.groups = -1});
  instance.build({-1, 4, 6});
  EXPECT_EQ(instance.groups(), 6);  // written back as the channel count, as Keras does
  EXPECT_EQ(instance.get_config()["groups"], 6);
  EXPECT_EQ(message_of<ValueError>([] { GroupNormalization({.groups = 0, .name = "g"}); }),
            "GroupNormalization 'g': Received an invalid value for argument `groups`. Expected a "
            "positive integer (or `-1` for instance normalization). Received: groups=0.");
  EXPECT_EQ(message_of<ValueError>([] {
              GroupNormalization({.groups = 4, .name = "g"}).build({-1, 3, 6});
            }),
            "GroupNormalization 'g': Number of groups (4) must be a multiple of the number of "
            "channels (6). Expected channels divisible by groups. Received: groups=4.");
  // Two groups of two channels, statistics over the steps and the group's channels.
  GroupNormalization two({.groups = 2, .epsilon = 0.0, .center = false, .scale = false});
  const Tensor y = two.call(Tensor({1, 2, 4}, {1, 3, 10, 10, 3, 1, 20, 20}));
  // group 0: {1, 3, 3, 1}: mean 2, var 1; group 1: {10, 10, 20, 20}: mean 15, var 25
  EXPECT_EQ(y.to_vector(), (std::vector<float>{-1, 1, -1, -1, 1, -1, 1, 1}));
}

TEST(GroupNormalization, BackwardMatchesDifferences) {
  for (const GroupNormalization::Args& args :
       {GroupNormalization::Args{.groups = 2},
        GroupNormalization::Args{.groups = -1, .center = false},
        GroupNormalization::Args{.groups = 1, .axis = 1, .scale = false}}) {
    SCOPED_TRACE(args.groups);
    expect_gradients_match_differences(
        unary_call<GroupNormalization>(built<GroupNormalization>(args, {2, 4, 6})),
        {random_normal({2, 4, 6}, 2)});
  }
}

TEST(UnitNormalization, UnitNormAlongTheAxes) {
  const Tensor y = UnitNormalization().call(Tensor({2, 2}, {3, 4, 0, 0}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.6f, 0.8f, 0, 0}));  // a zero vector stays 0
  EXPECT_EQ(UnitNormalization({.axis = {1, 2}}).get_config()["axis"], Config({1, 2}));
  EXPECT_NE(message_of<ValueError>([] {
              UnitNormalization({.axis = 3}).call(Tensor({2, 2}));
            }).find("Axis 3 is out of bounds"),
            std::string::npos);
  for (const IntOrList& axis : {IntOrList(-1), IntOrList{1, 2}}) {
    expect_gradients_match_differences(
        unary_call<UnitNormalization>([axis] {
          return std::make_unique<UnitNormalization>(UnitNormalization::Args{.axis = axis});
        }),
        {random_normal({2, 3, 4}, 3)});
  }
}

TEST(RMSNormalization, ScaleShapedLikeTheAxesAndAxisWrittenAsAList) {
  RMSNormalization layer;
  EXPECT_EQ(layer.get_config()["axis"], -1);
  layer.build({-1, 4, 6});
  EXPECT_EQ(layer.get_config()["axis"], Config({-1}));  // Keras's build: [axis]
  EXPECT_EQ(layer.weights()[0].name, "scale");
  EXPECT_EQ(layer.weights()[0].value.shape(), (Shape{6}));
  RMSNormalization joint({.axis = {2, 1}});
  joint.build({-1, 4, 6});
  EXPECT_EQ(joint.get_config()["axis"], Config({1, 2}));  // sorted
  EXPECT_EQ(joint.weights()[0].value.shape(), (Shape{4, 6}));
  // x / sqrt(mean(x^2) + eps)
  RMSNormalization plain({.epsilon = 0.0});
  EXPECT_EQ(plain.call(Tensor({1, 2}, {3, 4})).to_vector(),
            (std::vector<float>{3 / std::sqrt(12.5f), 4 / std::sqrt(12.5f)}));
  for (const IntOrList& axis : {IntOrList(-1), IntOrList{1, 2}}) {
    expect_gradients_match_differences(unary_call<RMSNormalization>(built<RMSNormalization>(
                                           {.axis = axis, .epsilon = 1e-3}, {2, 3, 4})),
                                       {random_normal({2, 3, 4}, 4)});
  }
}

}  // namespace
}  // namespace kattn
