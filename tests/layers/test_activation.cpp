#include <gtest/gtest.h>

#include <cmath>

#include "kattn/layers/activation.hpp"
#include "kattn/ops/activations.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::message_of;

Tensor applied(const char* name, const Tensor& x) {
  Tensor y = x.clone();
  const ActivationFunction activation(name);
  activation(y);
  return y;
}

TEST(Activations, ValuesAsKerasComputesThem) {
  const Tensor x({4}, {-2, -0.5f, 0, 1.5f});
  EXPECT_EQ(applied("linear", x).to_vector(), x.to_vector());
  EXPECT_EQ(applied("relu", x).to_vector(), (std::vector<float>{0, 0, 0, 1.5f}));
  const std::vector<float> v = x.to_vector();
  std::vector<float> gelu, sigmoid, tanh, silu;
  for (const float e : v) {
    const double d = e;
    gelu.push_back(static_cast<float>(0.5 * d * (1 + std::erf(d / std::sqrt(2.0)))));
    sigmoid.push_back(static_cast<float>(1 / (1 + std::exp(-d))));
    tanh.push_back(static_cast<float>(std::tanh(d)));
    silu.push_back(static_cast<float>(d / (1 + std::exp(-d))));
  }
  expect_close(applied("gelu", x), Tensor({4}, gelu), 1e-7, 1e-6);
  expect_close(applied("sigmoid", x), Tensor({4}, sigmoid), 1e-7, 1e-6);
  expect_close(applied("tanh", x), Tensor({4}, tanh), 1e-7, 1e-6);
  expect_close(applied("silu", x), Tensor({4}, silu), 1e-7, 1e-6);
  expect_close(applied("swish", x), Tensor({4}, silu), 1e-7, 1e-6);
  // hard_sigmoid clip(x / 6 + 0.5, 0, 1); softsign x / (1 + |x|).
  expect_close(applied("hard_sigmoid", Tensor({6}, {-4, -2, -0.5f, 0, 1.5f, 4})),
               Tensor({6}, {0, 1 / 6.0f, 5 / 12.0f, 0.5f, 0.75f, 1}), 1e-7, 1e-6);
  expect_close(applied("softsign", x), Tensor({4}, {-2 / 3.0f, -1 / 3.0f, 0, 0.6f}), 1e-7, 1e-6);
  // softmax over the last axis: rows [0, ln 3] -> [1/4, 3/4] and [5, 5] -> [1/2, 1/2].
  expect_close(applied("softmax", Tensor({2, 2}, {0, std::log(3.0f), 5, 5})),
               Tensor({2, 2}, {0.25f, 0.75f, 0.5f, 0.5f}), 1e-7, 1e-6);
}

TEST(Activations, HardSigmoidAndSoftsignBackwardAreTheirSlopes) {
  const Tensor x({5}, {-4, -2, 0.5f, 1.5f, 4});
  const Tensor ones({5}, {1, 1, 1, 1, 1});
  for (const char* name : {"hard_sigmoid", "softsign"}) {
    const ActivationFunction activation(name);
    const Tensor d = activation.backward(x, applied(name, x), ones);
    for (int64_t i = 0; i < x.size(); ++i) {
      const double h = 1e-3, at = x.data()[i];
      const double slope = (applied(name, Tensor({1}, {static_cast<float>(at + h)})).data()[0] -
                            applied(name, Tensor({1}, {static_cast<float>(at - h)})).data()[0]) /
                           (2 * h);
      EXPECT_NEAR(d.data()[i], slope, 1e-3) << name << " at " << at;
    }
  }
}

TEST(Activations, SerialiseAsKerasNames) {
  EXPECT_EQ(ActivationFunction().get_config(), "linear");
  EXPECT_EQ(ActivationFunction::from_config(nullptr).name(), "linear");
  EXPECT_EQ(ActivationFunction::from_config("swish").get_config(), "silu");
  EXPECT_EQ(message_of<NotSupportedError>([] { ActivationFunction("threshold"); }),
            "Activation: unsupported activation. Expected one of linear, relu, gelu, sigmoid, "
            "tanh, softmax, silu, hard_sigmoid, softsign, relu6, leaky_relu, elu, selu, celu, "
            "softplus, log_sigmoid, exponential, mish, hard_silu, tanh_shrink, hard_tanh, "
            "squareplus, sparse_plus, sparse_sigmoid, soft_shrink, hard_shrink, log_softmax, "
            "sparsemax (or swish and hard_swish, aliases of silu and hard_silu). Received: "
            "activation=threshold.");
  EXPECT_EQ(message_of<NotSupportedError>([] {
              ActivationFunction::from_config({{"class_name", "ReLU"}});
            }),
            "Activation: unsupported activation. Expected null or the name of a built-in "
            "activation. Received: activation={\"class_name\":\"ReLU\"}.");
}

TEST(Activation, LayerConfigAndCall) {
  const Config keras = Config::parse(R"({"name": "act", "trainable": true, "dtype": {"module":
    "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name":
    null}, "activation": "tanh"})");
  const auto layer = Activation::from_config(keras);
  EXPECT_EQ(layer->get_config(), keras);
  EXPECT_TRUE(layer->built());
  EXPECT_EQ(layer->compute_output_shape({-1, 3}), (Shape{-1, 3}));
  const Tensor x({2}, {0, 1});
  const Tensor y = layer->call(x);
  EXPECT_EQ(x.to_vector(), (std::vector<float>{0, 1}));  // the input is left alone
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, std::tanh(1.0f)}));
  EXPECT_EQ(Activation({.activation = ActivationFunction("relu")}).get_config()["name"],
            "activation");
  EXPECT_EQ(message_of<ValueError>([] {
              Activation::from_config({{"name", "a"}});
            }),
            "Activation 'a': invalid config value for `activation`. Expected an activation name "
            "or null. Received: activation=missing.");
}

}  // namespace
}  // namespace kattn
