// Maximum and Minimum: Keras's configs, values folded over the inputs, masked inputs (and
// Multiply's), and backward() against central finite differences and at ties.
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

const Tensor kA({2, 2}, {1, 20, 3, 40});
const Tensor kB({2, 2}, {10, 2, 30, 4});

TEST(Maximum, ConfigRoundTripsAndDefaults) {
  const Config config = {{"name", "top"}, {"trainable", true}, {"dtype", kDtype}};
  EXPECT_EQ(Maximum::from_config(config)->get_config(), config);
  EXPECT_EQ(Maximum::from_config(config)->class_name(), "Maximum");
  EXPECT_EQ(Minimum::from_config(config)->class_name(), "Minimum");
  EXPECT_EQ(Maximum().name(), "maximum");
  EXPECT_EQ(Minimum().name(), "minimum");
  Config extra = config;
  extra["axis"] = -1;
  EXPECT_EQ(message_of<ValueError>([&] { Minimum::from_config(extra); }),
            "Minimum 'top': unrecognized keyword arguments in the config. Expected only the keys "
            "of Minimum.get_config(). Received: {'axis': -1}.");
}

TEST(Maximum, ElementwiseOverEveryInputWithBroadcasting) {
  EXPECT_EQ(Maximum().call({kA, kB}).to_vector(), (std::vector<float>{10, 20, 30, 40}));
  EXPECT_EQ(Minimum().call({kA, kB}).to_vector(), (std::vector<float>{1, 2, 3, 4}));
  const Tensor column({2, 1}, {5, 35});
  EXPECT_EQ(Maximum().call({kA, kB, column}).to_vector(), (std::vector<float>{10, 20, 35, 40}));
  EXPECT_EQ(Minimum().call({kA, kB, column}).to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(Minimum().call({column, kA}).to_vector(), (std::vector<float>{1, 5, 3, 35}));
}

// Keras 3.16 (numpy backend) on a, b, c (1, 3, 2) with masks set on the tensors.
const Tensor kMaskedA({1, 3, 2}, {1, 20, 3, 40, 5, -6});
const Tensor kMaskedB({1, 3, 2}, {10, 2, 30, 4, -50, 60});
const Tensor kMaskedC({1, 3, 2}, {7, 7, 0, 0, -1, 100});
const Mask kMaskA({1, 3}, {true, false, false});
const Mask kMaskB({1, 3}, {false, true, false});
const Mask kMaskC({1, 3}, {true, true, false});

TEST(Maximum, MaskedElementsTakeTheOtherInputsValues) {
  const std::vector<Tensor> ab{kMaskedA, kMaskedB};
  EXPECT_EQ(Maximum().call(ab, {kMaskA, kMaskB}).to_vector(),
            (std::vector<float>{1, 20, 30, 4, 5, -6}));
  EXPECT_EQ(Minimum().call(ab, {kMaskA, kMaskB}).to_vector(),
            (std::vector<float>{1, 20, 30, 4, 5, -6}));
  EXPECT_EQ(Maximum().call(ab, {kMaskA, std::nullopt}).to_vector(),
            (std::vector<float>{10, 20, 30, 4, -50, 60}));
  EXPECT_EQ(Minimum().call({kMaskedA, kMaskedB, kMaskedC}, {kMaskA, kMaskB, kMaskC}).to_vector(),
            (std::vector<float>{1, 7, 0, 0, 5, -6}));
  // The output's mask: the OR while every input has one.
  EXPECT_EQ(Maximum().compute_mask(ab, {kMaskA, kMaskB})->to_vector(),
            (std::vector<bool>{true, true, false}));
  EXPECT_EQ(Maximum().compute_mask(ab, {kMaskA, std::nullopt}), std::nullopt);
  EXPECT_EQ(message_of<ValueError>([&] {
              Minimum({.name = "low"}).call(ab, {kMaskA, Mask({1, 3, 2})});
            }),
            "Minimum 'low': A mask does not fit its input. Expected a mask of shape (1, 3). "
            "Received: mask_shape=(1, 3, 2) for input 1 of shape (1, 3, 2).");
}

TEST(Multiply, MaskedElementsCountAsOne) {
  const std::vector<Tensor> ab{kMaskedA, kMaskedB};
  EXPECT_EQ(Multiply().call(ab, {kMaskA, kMaskB}).to_vector(),
            (std::vector<float>{1, 20, 30, 4, 0, 0}));
  EXPECT_EQ(Multiply().call(ab, {kMaskA, std::nullopt}).to_vector(),
            (std::vector<float>{10, 40, 30, 4, -50, 60}));
}

TEST(Maximum, MaskedBackwardMatchesDifferences) {
  const std::vector<Tensor> inputs{random_normal({2, 3, 4}, 60), random_normal({2, 3, 4}, 61),
                                   random_normal({2, 3, 4}, 62)};
  const std::vector<std::vector<std::optional<Mask>>> mask_sets = {
      {testing::random_mask({2, 3}, 63), testing::random_mask({2, 3}, 64),
       testing::random_mask({2, 3}, 65)},
      {testing::random_mask({2, 3}, 66), std::nullopt, testing::random_mask({2, 3}, 67)},
      {std::nullopt, testing::random_mask({2, 3}, 68), std::nullopt}};
  const Maximum maximum;
  const Minimum minimum;
  const Multiply multiply;
  for (const auto& masks : mask_sets) {
    for (const Merge* layer : std::vector<const Merge*>{&maximum, &minimum, &multiply}) {
      SCOPED_TRACE(layer->class_name());
      const LayerForward forward = layer->forward(inputs, masks);
      const Tensor d_output = random_normal(forward.output.shape(), 70);
      std::vector<Tensor> none;
      const std::vector<Tensor> grads = layer->backward(forward, d_output, none);
      for (size_t i = 0; i < inputs.size(); ++i) {
        std::vector<Tensor> varied = inputs;
        const auto loss = [&] { return dot_sum(layer->call(varied, masks), d_output); };
        EXPECT_TRUE(gradients_agree(grads[i],
                                    numeric_gradient(varied[i], loss, testing::kFloatStep),
                                    testing::kFloatAtol, testing::kFloatRtol))
            << "input " << i;
      }
    }
  }
}

TEST(Maximum, BackwardMatchesDifferencesWithBroadcasting) {
  const std::vector<std::vector<Shape>> shape_sets = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {2, 1, 4}}, {{2, 1, 4}, {2, 3, 1}, {2, 3, 4}}};
  for (const std::vector<Shape>& shapes : shape_sets) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(random_normal(shapes[i], 60 + i));
    SCOPED_TRACE(shape_to_string(shapes[1]));
    const Maximum maximum;
    const Minimum minimum;
    for (const Merge* layer : std::vector<const Merge*>{&maximum, &minimum}) {
      const LayerForward forward = layer->forward(inputs);
      const Tensor d_output = random_normal(forward.output.shape(), 70);
      std::vector<Tensor> none;
      const std::vector<Tensor> grads = layer->backward(forward, d_output, none);
      ASSERT_EQ(grads.size(), inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        const auto loss = [&] { return dot_sum(layer->call(inputs), d_output); };
        EXPECT_TRUE(gradients_agree(grads[i],
                                    numeric_gradient(inputs[i], loss, testing::kFloatStep),
                                    testing::kFloatAtol, testing::kFloatRtol));
      }
    }
  }
}

TEST(Maximum, TiesSplitInHalvesAtEachPairwiseStep) {
  // max(max(a, b), c) with a == b == c: c takes half, a and b a quarter each (jax, torch).
  const Tensor x({1, 1}, {2});
  const Maximum maximum;
  std::vector<Tensor> none;
  const std::vector<Tensor> grads =
      maximum.backward(maximum.forward({x, x, x}), Tensor({1, 1}, {1}), none);
  EXPECT_EQ(grads[0](0, 0), 0.25f);
  EXPECT_EQ(grads[1](0, 0), 0.25f);
  EXPECT_EQ(grads[2](0, 0), 0.5f);
}

}  // namespace
}  // namespace kattn
