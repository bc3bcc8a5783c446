#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kattn/layers/masking.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

TEST(Masking, ConfigRoundTrips) {
  const Config keras = Config::parse(R"({"name": "masking", "trainable": true, "dtype":
    {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
    "registered_name": null}, "mask_value": 0.0})");
  EXPECT_EQ(Masking().get_config(), keras);
  EXPECT_EQ(Masking::from_config(keras)->get_config(), keras);
  const Masking custom({.mask_value = -1.5, .name = "m"});
  EXPECT_EQ(Masking::from_config(custom.get_config())->mask_value(), -1.5);
}

TEST(Masking, ZeroesMaskedStepsAndReturnsTheMask) {
  Masking masking({.mask_value = 0.1});
  // (2, 2, 2): step (0, 1) is all mask_value (compared in float32), step (1, 0) only partly.
  const Tensor x({2, 2, 2}, {1, 2, 0.1f, 0.1f, 0.1f, 3, 4, 5});
  EXPECT_EQ(masking.compute_mask(x)->to_vector(), (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(masking.call(x).to_vector(), (std::vector<float>{1, 2, 0, 0, 0.1f, 3, 4, 5}));
  EXPECT_EQ(masking.compute_output_shape({-1, 3, 2}), (Shape{-1, 3, 2}));
  EXPECT_TRUE(masking.built());
  EXPECT_TRUE(masking.weights().empty());
  // The product is Keras's: an all-inf step masked by mask_value=inf gives NaN.
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(Masking({.mask_value = inf}).call(Tensor({1, 2}, {inf, inf}))(0, 0)));
}

TEST(Masking, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { Masking().call(Tensor({}, {1.0f})); }),
            "Masking 'masking': Input 0 is incompatible with the layer. Expected min_ndim=1. "
            "Received: ndim=0, shape=().");
  EXPECT_EQ(message_of<ValueError>([] {
              Masking::from_config({{"mask_value", "zero"}});
            }),
            "Masking: invalid config value for `mask_value`. Expected a number. Received: "
            "mask_value=\"zero\".");
}

}  // namespace
}  // namespace kattn
