// Dot: Keras's configs and errors, output shapes for every form of `axes`, values against
// hand computations (normalize included) and backward() against central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "kattn/layers/dot.hpp"
#include "layer_backward_check.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_gradients_match_differences;
using testing::merge_call;
using testing::message_of;
using testing::random_normal;

TEST(Dot, ConfigRoundTripsAndAxesAreRequired) {
  Config config = {{"name", "dot"},
                   {"trainable", true},
                   {"dtype", testing::float32_dtype()},
                   {"axes", Config({1, 2})},
                   {"normalize", true}};
  EXPECT_EQ(Dot::from_config(config)->get_config(), config);
  config["axes"] = -1;
  EXPECT_EQ(Dot::from_config(config)->get_config(), config);
  config.erase("axes");
  EXPECT_EQ(message_of<ValueError>([&] { Dot::from_config(config); }),
            "Dot 'dot': invalid config value for `axes`. Expected an int or a list of two ints. "
            "Received: axes=missing.");
  EXPECT_EQ(message_of<ValueError>([] {
              Dot({.axes = {1, 2, 3}});
            }),
            "Dot 'dot': Invalid format for argument `axes`: it should contain two elements. "
            "Expected an int or a list of two ints. Received: axes=(1, 2, 3).");
}

TEST(Dot, OutputShapesAsBatchDotGivesThem) {
  EXPECT_EQ(Dot({.axes = -1}).compute_output_shape({{-1, 5}, {-1, 5}}), (Shape{-1, 1}));
  EXPECT_EQ(Dot({.axes = {1, 2}}).compute_output_shape({{-1, 3, 5}, {-1, 10, 3}}),
            (Shape{-1, 5, 10}));
  EXPECT_EQ(Dot({.axes = 2}).compute_output_shape({{2, 4, 6}, {2, 7, 6}}), (Shape{2, 4, 7}));
  EXPECT_EQ(Dot({.axes = {1, 1}}).compute_output_shape({{-1, 6}, {-1, 6, 3, 2}}),
            (Shape{-1, 3, 2}));
}

TEST(Dot, Errors) {
  EXPECT_EQ(message_of<ValueError>([] {
              Dot({.axes = {1, 2}}).compute_output_shape({{-1, 3, 5}, {-1, 10, 4}});
            }),
            "Dot 'dot': Incompatible input shapes. Expected equal sizes on the dot axes. "
            "Received: axis values 3 (at axis 1) != 4 (at axis 2). Full input shapes: "
            "(None, 3, 5), (None, 10, 4).");
  EXPECT_EQ(message_of<ValueError>([] {
              Dot({.axes = 0}).compute_output_shape({{2, 3}, {2, 3}});
            }),
            "Dot 'dot_1': Cannot perform batch_dot over axis 0. Expected an axis in [1, 1] of "
            "input 0. Received: axes=0 for inputs of ranks 2 and 2.");
  EXPECT_EQ(message_of<ValueError>([] {
              Dot({.axes = 1}).compute_output_shape({{2}, {2, 3}});
            }),
            "Dot 'dot_2': Cannot do batch_dot on inputs with rank < 2. Expected inputs of rank >= "
            "2. Received: shapes (2,) and (2, 3).");
  EXPECT_EQ(message_of<ValueError>([] {
              Dot({.axes = 1}).compute_output_shape({{2, 3}, {2, 3}, {2, 3}});
            }),
            "Dot 'dot_3': A `Dot` layer should be called on a list of 2 inputs. Expected 2 inputs. "
            "Received: 3 inputs.");
}

TEST(Dot, ValuesAndCosineSimilarity) {
  // x (1, 2, 3) . y (1, 2, 2) over axis 1: out[i, j] = sum_t x[t, i] y[t, j].
  const Tensor x({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor y({1, 2, 2}, {1, 0, 0, 1});
  EXPECT_EQ(Dot({.axes = 1}).call({x, y}).to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // Cosine similarity of 2-D rows; a zero row gives 0.
  const Tensor a({2, 2}, {3, 4, 0, 0});
  const Tensor b({2, 2}, {4, 3, 1, 1});
  const Tensor cosine = Dot({.axes = 1, .normalize = true}).call({a, b});
  EXPECT_EQ(cosine.shape(), (Shape{2, 1}));
  EXPECT_NEAR(cosine.data()[0], 24.0f / 25.0f, 1e-6f);
  EXPECT_EQ(cosine.data()[1], 0.0f);
  EXPECT_EQ(Dot({.axes = 1}).compute_mask({a, b}, {Mask({2}), Mask({2})}), std::nullopt);
}

TEST(Dot, BackwardMatchesDifferences) {
  struct Case {
    IntOrList axes;
    Shape x, y;
  };
  const std::vector<Case> cases = {{-1, {2, 5}, {2, 5}},
                                   {{1, 2}, {2, 3, 4}, {2, 5, 3}},
                                   {2, {2, 3, 4}, {2, 5, 4}},
                                   {{1, 1}, {2, 4}, {2, 4, 3, 2}}};
  for (const Case& c : cases) {
    for (const bool normalize : {false, true}) {
      SCOPED_TRACE(c.axes.to_string() + (normalize ? " normalized" : ""));
      expect_gradients_match_differences(
          merge_call<Dot>([&] {
            return std::make_unique<Dot>(Dot::Args{.axes = c.axes, .normalize = normalize});
          }),
          {random_normal(c.x, 1), random_normal(c.y, 2)});
    }
  }
}

}  // namespace
}  // namespace kattn
