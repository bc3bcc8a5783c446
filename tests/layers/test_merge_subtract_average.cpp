// Subtract and Average: Keras's configs and errors, values, Keras's mask rule (Merge's OR), and
// backward() against central finite differences of call().
#include <gtest/gtest.h>

#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/merging.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_normal;

const Config& kDtype = testing::float32_dtype();

const Tensor kA({2, 2}, {1, 2, 3, 4});
const Tensor kB({2, 2}, {10, 20, 30, 40});
const Mask kM1({2, 2}, {true, false, false, false});
const Mask kM2({2, 2}, {false, false, true, false});

TEST(Subtract, ConfigRoundTripsAndDefaults) {
  const Config config = {{"name", "diff"}, {"trainable", true}, {"dtype", kDtype}};
  EXPECT_EQ(Subtract::from_config(config)->get_config(), config);
  EXPECT_EQ(Subtract::from_config(config)->class_name(), "Subtract");
  EXPECT_EQ(Subtract().name(), "subtract");
  Config average = config;
  average["name"] = "mean";
  EXPECT_EQ(Average::from_config(average)->get_config(), average);
  EXPECT_EQ(Average::from_config(average)->class_name(), "Average");
  EXPECT_EQ(Average().name(), "average");
  Config extra = config;
  extra["axis"] = -1;
  EXPECT_EQ(message_of<ValueError>([&] { Subtract::from_config(extra); }),
            "Subtract 'diff': unrecognized keyword arguments in the config. Expected only the "
            "keys of Subtract.get_config(). Received: {'axis': -1}.");
}

TEST(Subtract, ValuesBroadcastingAndTheTwoInputRule) {
  EXPECT_EQ(Subtract().call({kA, kB}).to_vector(), (std::vector<float>{-9, -18, -27, -36}));
  EXPECT_EQ(Subtract().call({kB, kA}).to_vector(), (std::vector<float>{9, 18, 27, 36}));
  const Tensor column({2, 1}, {1, 2});
  EXPECT_EQ(Subtract().call({column, kA}).to_vector(), (std::vector<float>{0, -1, -1, -2}));
  Subtract subtract({.name = "diff"});
  EXPECT_EQ(message_of<ValueError>([&] {
              subtract.call({kA, kB, kA});
            }),
            "Subtract 'diff': A `Subtract` layer should be called on exactly 2 inputs. Expected "
            "2 inputs. Received: input_shape=[(2, 2), (2, 2), (2, 2)].");
  EXPECT_EQ(message_of<ValueError>([&] {
              subtract.build({{-1, 2}});
            }),
            "Subtract 'diff': A `Subtract` layer should be called on exactly 2 inputs. Expected "
            "2 inputs. Received: input_shape=[(None, 2)].");
  EXPECT_FALSE(subtract.built());
}

TEST(Average, SumDividedByTheInputCount) {
  EXPECT_EQ(Average().call({kA, kB}).to_vector(), (std::vector<float>{5.5, 11, 16.5, 22}));
  EXPECT_EQ(Average().call({kA, kB, kA}).to_vector(), (std::vector<float>{4, 8, 12, 16}));
  EXPECT_EQ(Average().call({kA}).to_vector(), kA.to_vector());
  Tensor x({2, 3, 2});
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
  const Tensor mean = Average().call({x, kB});  // (2, 2) -> (2, 1, 2)
  EXPECT_EQ(mean.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(mean(1, 2, 1), (11.0f + 40.0f) / 2.0f);
}

TEST(Subtract, MaskIsTheOrOnlyWhenEveryInputHasOne) {
  const Subtract subtract;
  const Average average;
  for (const Merge* layer : std::vector<const Merge*>{&subtract, &average}) {
    const std::optional<Mask> both = layer->compute_mask({kA, kB}, {kM1, kM2});
    ASSERT_TRUE(both);
    EXPECT_EQ(both->to_vector(), (std::vector<bool>{true, false, true, false}));
    EXPECT_EQ(layer->compute_mask({kA, kB}, {kM1, std::nullopt}), std::nullopt);
    EXPECT_EQ(layer->compute_mask({kA, kB}, {}), std::nullopt);
  }
}

// backward() of `layer` on `inputs` against central differences of call(), per input.
void expect_backward_matches_differences(const Merge& layer, std::vector<Tensor> inputs) {
  const LayerForward forward = layer.forward(inputs);
  const Tensor d_output = random_normal(forward.output.shape(), 77);
  std::vector<Tensor> none;
  const std::vector<Tensor> grads = layer.backward(forward, d_output, none);
  ASSERT_EQ(grads.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(i);
    const auto loss = [&] { return dot_sum(layer.call(inputs), d_output); };
    EXPECT_TRUE(gradients_agree(grads[i], numeric_gradient(inputs[i], loss, testing::kFloatStep),
                                testing::kFloatAtol, testing::kFloatRtol));
  }
}

TEST(Subtract, BackwardMatchesDifferencesWithBroadcasting) {
  const std::vector<std::vector<Shape>> shape_sets = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {2, 1, 4}}, {{2, 4}, {2, 3, 4}}};
  for (const std::vector<Shape>& shapes : shape_sets) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(random_normal(shapes[i], 40 + i));
    SCOPED_TRACE(shape_to_string(shapes[1]));
    expect_backward_matches_differences(Subtract(), inputs);
    expect_backward_matches_differences(Average(), inputs);
  }
  std::vector<Tensor> three;
  for (const Shape& shape : std::vector<Shape>{{2, 1, 4}, {2, 3, 1}, {2, 3, 4}}) {
    three.push_back(random_normal(shape, 50 + three.size()));
  }
  expect_backward_matches_differences(Average(), three);
}

}  // namespace
}  // namespace kattn
