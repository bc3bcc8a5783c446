// The layers that are identities at inference and perturb their input in training:
// GaussianNoise, GaussianDropout, AlphaDropout and SpatialDropout1D/2D/3D (Dropout has its own
// file), and ActivityRegularization: Keras's configs and errors, the training rules in
// distribution, and backward() against central finite differences of a seeded training call.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "kattn/layers/activity_regularization.hpp"
#include "kattn/layers/alpha_dropout.hpp"
#include "kattn/layers/gaussian_dropout.hpp"
#include "kattn/layers/gaussian_noise.hpp"
#include "kattn/layers/spatial_dropout.hpp"
#include "layer_backward_check.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_gradients_match_differences;
using testing::LayerCall;
using testing::message_of;
using testing::random_normal;

Config base_config(const std::string& name) {
  return {{"name", name}, {"trainable", true}, {"dtype", testing::float32_dtype()}};
}

// A seeded layer's training call: a fresh layer draws the same key on its first call.
template <typename L>
LayerCall<L> training_call(typename L::Args args) {
  return {[args] { return std::make_unique<L>(args); },
          [](const L& layer, const std::vector<Tensor>& in) { return layer.forward(in[0], true); },
          [](const L& layer, const LayerForward& f, const Tensor& d, std::vector<Tensor>& wg) {
            return std::vector<Tensor>{layer.backward(f, d, wg)};
          }};
}

struct Moments {
  double mean = 0.0;
  double variance = 0.0;
};

Moments moments(const Tensor& x) {
  Moments m;
  for (int64_t i = 0; i < x.size(); ++i) m.mean += x.data()[i];
  m.mean /= static_cast<double>(x.size());
  for (int64_t i = 0; i < x.size(); ++i) {
    m.variance += (x.data()[i] - m.mean) * (x.data()[i] - m.mean);
  }
  m.variance /= static_cast<double>(x.size());
  return m;
}

TEST(NoiseLayers, KerasConfigsRoundTrip) {
  Config noise = base_config("noise");
  noise["stddev"] = 0.5;
  noise["seed"] = nullptr;
  EXPECT_EQ(GaussianNoise::from_config(noise)->get_config(), noise);
  Config gaussian = base_config("gd");
  gaussian["rate"] = 0.4;
  gaussian["seed"] = 3;
  EXPECT_EQ(GaussianDropout::from_config(gaussian)->get_config(), gaussian);
  Config alpha = base_config("ad");
  alpha["rate"] = 0.2;
  alpha["seed"] = nullptr;
  alpha["noise_shape"] = Config({nullptr, 1, nullptr});
  EXPECT_EQ(AlphaDropout::from_config(alpha)->get_config(), alpha);
  // BaseSpatialDropout.get_config: rate, seed, name, dtype (and data_format): no trainable.
  const Config spatial = {{"name", "sd"}, {"dtype", "float32"}, {"rate", 0.3}, {"seed", nullptr}};
  EXPECT_EQ(SpatialDropout1D::from_config(spatial)->get_config(), spatial);
  Config spatial_2d = spatial;
  spatial_2d["data_format"] = "channels_first";
  EXPECT_EQ(SpatialDropout2D::from_config(spatial_2d)->get_config(), spatial_2d);
  EXPECT_EQ(SpatialDropout3D({.rate = 0.1}).name(), "spatial_dropout3d");
  Config regularization = base_config("reg");
  regularization["l1"] = 0.01;
  regularization["l2"] = 0.001;
  const auto layer = ActivityRegularization::from_config(regularization);
  EXPECT_EQ(layer->get_config(), regularization);
  EXPECT_EQ(layer->activity_regularizer()["class_name"], "L1L2");
  EXPECT_EQ(layer->activity_regularizer()["config"]["l2"], 0.001);
}

TEST(NoiseLayers, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { GaussianNoise({.stddev = 1.5, .name = "n"}); }),
            "GaussianNoise 'n': Invalid value received for argument `stddev`. Expected a float "
            "value between 0 and 1. Received: stddev=1.5.");
  EXPECT_EQ(message_of<ValueError>([] { GaussianDropout({.rate = -0.1, .name = "g"}); }),
            "GaussianDropout 'g': Invalid value received for argument `rate`. Expected a float "
            "value between 0 and 1. Received: rate=-0.1.");
  EXPECT_EQ(message_of<ValueError>([] {
              AlphaDropout({.rate = 0.5, .noise_shape = Shape{-1, 0}, .name = "a"});
            }),
            "AlphaDropout 'a': Invalid value received for argument `noise_shape`. Expected all "
            "dimensions to be positive integers or None. Received: noise_shape=(None, 0).");
  EXPECT_EQ(message_of<ValueError>([] { GaussianNoise::from_config(base_config("n")); }),
            "GaussianNoise 'n': invalid config value for `stddev`. Expected a float value "
            "between 0 and 1. Received: stddev=missing.");
  EXPECT_EQ(message_of<ValueError>([] {
              SpatialDropout1D({.rate = 0.5, .name = "s"}).call(Tensor({2, 3}), true);
            }),
            "SpatialDropout1D 's': Input 0 is incompatible with the layer. Expected ndim=3. "
            "Received: ndim=2, full shape (2, 3).");
  EXPECT_EQ(message_of<ValueError>([] { ActivityRegularization({.l1 = -1.0, .name = "r"}); }),
            "ActivityRegularization 'r': invalid value for argument `l1`. Expected a non-negative "
            "float. Received: l1=-1.0.");
}

TEST(NoiseLayers, InferenceReturnsTheInputItself) {
  const Tensor x = random_normal({2, 3, 4}, 1);
  EXPECT_EQ(GaussianNoise({.stddev = 0.5}).call(x).data(), x.data());
  EXPECT_EQ(GaussianDropout({.rate = 0.5}).call(x).data(), x.data());
  EXPECT_EQ(AlphaDropout({.rate = 0.5}).call(x).data(), x.data());
  EXPECT_EQ(SpatialDropout1D({.rate = 0.5}).call(x).data(), x.data());
  EXPECT_EQ(ActivityRegularization({.l1 = 0.1}).call(x).data(), x.data());
  // Nothing to perturb: the identity in training too.
  EXPECT_EQ(GaussianNoise({.stddev = 0.0}).call(x, true).data(), x.data());
}

TEST(NoiseLayers, TrainingRulesInDistribution) {
  const Tensor zeros = Tensor::full({200, 100}, 0.0f);
  const Tensor ones = Tensor::full({200, 100}, 1.0f);
  const Moments noise = moments(GaussianNoise({.stddev = 0.5, .seed = 1}).call(zeros, true));
  EXPECT_NEAR(noise.mean, 0.0, 0.01);
  EXPECT_NEAR(noise.variance, 0.25, 0.01);
  // 1 + sqrt(rate / (1 - rate)) n: mean 1, variance rate / (1 - rate).
  const Moments gaussian = moments(GaussianDropout({.rate = 0.2, .seed = 2}).call(ones, true));
  EXPECT_NEAR(gaussian.mean, 1.0, 0.01);
  EXPECT_NEAR(gaussian.variance, 0.25, 0.01);
  // AlphaDropout keeps a standard normal input's mean and variance (selu's fixed point).
  const Tensor normal = random_normal({200, 100}, 3);
  const Moments alpha = moments(AlphaDropout({.rate = 0.3, .seed = 4}).call(normal, true));
  EXPECT_NEAR(alpha.mean, 0.0, 0.03);
  EXPECT_NEAR(alpha.variance, 1.0, 0.05);
}

TEST(NoiseLayers, SpatialDropoutDropsWholeChannels) {
  const Tensor x = Tensor::full({8, 5, 6}, 1.0f);
  const Tensor y = SpatialDropout1D({.rate = 0.5, .seed = 5}).call(x, true);
  int dropped = 0;
  for (int64_t b = 0; b < 8; ++b) {
    for (int64_t c = 0; c < 6; ++c) {
      const float first = y(b, 0, c);
      EXPECT_TRUE(first == 0.0f || first == 2.0f);
      dropped += first == 0.0f;
      for (int64_t t = 1; t < 5; ++t) EXPECT_EQ(y(b, t, c), first);
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 48);
  const Tensor images = Tensor::full({4, 3, 2, 2}, 1.0f);
  const Tensor channels_first =
      SpatialDropout2D({.rate = 0.5, .seed = 6, .data_format = "channels_first"})
          .call(images, true);
  for (int64_t b = 0; b < 4; ++b) {
    for (int64_t c = 0; c < 3; ++c) {
      EXPECT_EQ(channels_first(b, c, 1, 1), channels_first(b, c, 0, 0));
    }
  }
}

TEST(NoiseLayers, BackwardOfATrainingCallMatchesDifferences) {
  const Tensor x = random_normal({2, 3, 4}, 7);
  expect_gradients_match_differences(training_call<GaussianNoise>({.stddev = 0.5, .seed = 1}), {x});
  expect_gradients_match_differences(training_call<GaussianDropout>({.rate = 0.3, .seed = 2}), {x});
  expect_gradients_match_differences(
      training_call<AlphaDropout>({.rate = 0.4, .noise_shape = Shape{-1, 1, -1}, .seed = 3}), {x});
  expect_gradients_match_differences(training_call<SpatialDropout1D>({.rate = 0.5, .seed = 4}),
                                     {x});
}

}  // namespace
}  // namespace kattn
