// The activation layers ReLU, LeakyReLU, ELU, PReLU, Softmax and Identity: Keras's arguments,
// configs and errors, values, masks, and backward() against central finite differences.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "kattn/layers/elu.hpp"
#include "kattn/layers/identity.hpp"
#include "kattn/layers/leaky_relu.hpp"
#include "kattn/layers/prelu.hpp"
#include "kattn/layers/relu.hpp"
#include "kattn/layers/softmax.hpp"
#include "layer_backward_check.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::away_from_zero;
using testing::expect_gradients_match_differences;
using testing::LayerCall;
using testing::message_of;
using testing::random_normal;
using testing::unary_call;

Config base_config(const std::string& name) {
  return {{"name", name}, {"trainable", true}, {"dtype", testing::float32_dtype()}};
}

TEST(RectifierLayers, ConfigsAndDefaults) {
  Config relu = base_config("r");
  relu["max_value"] = 1.5;
  relu["negative_slope"] = 0.1;
  relu["threshold"] = 0.3;
  EXPECT_EQ(ReLU::from_config(relu)->get_config(), relu);
  Config leaky = base_config("l");
  leaky["negative_slope"] = 0.25;
  EXPECT_EQ(LeakyReLU::from_config(leaky)->get_config(), leaky);
  Config elu = base_config("e");
  elu["alpha"] = 0.7;
  EXPECT_EQ(ELU::from_config(elu)->get_config(), elu);

  EXPECT_EQ(ReLU().name(), "re_lu");
  EXPECT_EQ(ReLU().get_config()["max_value"], Config());
  EXPECT_EQ(LeakyReLU().name(), "leaky_re_lu");
  EXPECT_EQ(LeakyReLU().negative_slope(), 0.3);  // the layer's default, not the activation's
  EXPECT_EQ(ELU().alpha(), 1.0);
  EXPECT_EQ(ELU::from_config(base_config("e"))->alpha(), 1.0);
}

TEST(RectifierLayers, ArgumentErrors) {
  EXPECT_EQ(message_of<ValueError>([] { ReLU({.max_value = -1.0, .name = "r"}); }),
            "ReLU 'r': max_value of a ReLU layer cannot be a negative value. Expected max_value "
            ">= 0 or None. Received: max_value=-1.0.");
  EXPECT_EQ(message_of<ValueError>([] { ReLU({.threshold = -0.5, .name = "r"}); }),
            "ReLU 'r': threshold of a ReLU layer cannot be None or a negative value. Expected "
            "threshold >= 0. Received: threshold=-0.5.");
  EXPECT_EQ(message_of<ValueError>([] { LeakyReLU({.negative_slope = -0.1, .name = "l"}); }),
            "LeakyReLU 'l': The negative_slope value of a Leaky ReLU layer cannot be None or "
            "negative value. Expected a float >= 0. Received: negative_slope=-0.1.");
  Config unknown = base_config("e");
  unknown["beta"] = 1.0;
  EXPECT_NE(message_of<ValueError>([&] { ELU::from_config(unknown); }).find("'beta'"),
            std::string::npos);
}

TEST(RectifierLayers, CallTheirRectifier) {
  const Tensor x({6}, {-2.0f, -0.5f, 0.0f, 0.2f, 1.0f, 3.0f});
  EXPECT_EQ(ReLU({.max_value = 1.5}).call(x).to_vector(),
            (std::vector<float>{0, 0, 0, 0.2f, 1, 1.5f}));
  EXPECT_EQ(LeakyReLU().call(x).to_vector(), (std::vector<float>{-0.6f, -0.15f, 0, 0.2f, 1, 3}));
  EXPECT_EQ(x.to_vector(), (std::vector<float>{-2.0f, -0.5f, 0.0f, 0.2f, 1.0f, 3.0f}));
}

TEST(RectifierLayers, BackwardMatchesDifferences) {
  const Tensor x = away_from_zero(random_normal({2, 3, 4}, 3));
  expect_gradients_match_differences(
      unary_call<ReLU>([] { return std::make_unique<ReLU>(ReLU::Args{.negative_slope = 0.2}); }),
      {x});
  expect_gradients_match_differences(
      unary_call<ReLU>([] {
        return std::make_unique<ReLU>(ReLU::Args{.max_value = 5.0, .negative_slope = 0.1});
      }),
      {x});
  expect_gradients_match_differences(
      unary_call<LeakyReLU>([] { return std::make_unique<LeakyReLU>(); }), {x});
  expect_gradients_match_differences(
      unary_call<ELU>([] { return std::make_unique<ELU>(ELU::Args{.alpha = 0.7}); }), {x});
}

TEST(PReLU, AlphaSharedAlongTheGivenAxes) {
  PReLU shared({.shared_axes = std::vector<int64_t>{1}});
  shared.build({-1, 3, 2});
  ASSERT_EQ(shared.weights().size(), 1u);
  EXPECT_EQ(shared.weights()[0].name, "alpha");
  EXPECT_EQ(shared.weights()[0].value.shape(), (Shape{1, 2}));
  EXPECT_EQ(shared.get_config()["shared_axes"], Config({1}));
  EXPECT_EQ(shared.build_config(), Config());  // recorded by a graph's call, not by build()
  shared.set_weight("alpha", Tensor({1, 2}, {0.5f, -0.25f}));
  // relu(x) - alpha * relu(-x)
  const Tensor x({1, 3, 2}, {-2, -2, 1, 1, -4, 0});
  EXPECT_EQ(shared.call(x).to_vector(), (std::vector<float>{-1, 0.5f, 1, 1, -2, 0}));

  PReLU full;
  full.build({-1, 4});
  EXPECT_EQ(full.weights()[0].value.shape(), (Shape{4}));
  EXPECT_EQ(full.get_config()["shared_axes"], Config());
  EXPECT_EQ(full.get_config()["alpha_initializer"]["class_name"], "Zeros");
}

TEST(PReLU, Errors) {
  EXPECT_EQ(message_of<ValueError>([] {
              PReLU({.shared_axes = std::vector<int64_t>{3}, .name = "p"}).build({-1, 4, 2});
            }),
            "PReLU 'p': shared_axes are out of range for the inputs. Expected axes in [1, 2]. "
            "Received: shared_axes=[3], input_shape=(None, 4, 2).");
  EXPECT_EQ(message_of<ValueError>([] {
              PReLU({.name = "p"}).build({-1, -1, 2});
            }),
            "PReLU 'p': the axes alpha is not shared along must have known sizes. Expected known "
            "sizes, or those axes in shared_axes. Received: input_shape=(None, None, 2).");
  PReLU built({.name = "p"});
  built.build({-1, 4});
  EXPECT_EQ(message_of<ValueError>([&] {
              built.call(Tensor({2, 5}));
            }),
            "PReLU 'p': Input 0 is incompatible with the layer. Expected inputs (batch, ...) that "
            "alpha (4,) broadcasts to. Received: shape=(2, 5).");
}

TEST(PReLU, BackwardMatchesDifferencesForInputsAndAlpha) {
  for (const std::optional<std::vector<int64_t>>& axes :
       {std::optional<std::vector<int64_t>>(), std::optional(std::vector<int64_t>{1}),
        std::optional(std::vector<int64_t>{1, 2})}) {
    SCOPED_TRACE(axes ? std::to_string(axes->size()) + " shared axes" : "no shared axes");
    expect_gradients_match_differences(
        unary_call<PReLU>([&] {
          auto layer = std::make_unique<PReLU>(PReLU::Args{.shared_axes = axes});
          layer->build({2, 3, 4});
          return layer;
        }),
        {away_from_zero(random_normal({2, 3, 4}, 4))});
  }
}

TEST(SoftmaxLayer, AxisIntOrList) {
  Config config = base_config("s");
  config["axis"] = 1;
  EXPECT_EQ(Softmax::from_config(config)->get_config(), config);
  config["axis"] = Config({1, 2});
  EXPECT_EQ(Softmax::from_config(config)->get_config(), config);
  const Tensor x = random_normal({2, 3, 4}, 5);
  const Tensor joint = Softmax({.axis = {1, 2}}).call(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < 12; ++i) sum += joint.data()[i];
  EXPECT_NEAR(sum, 1.0f, 1e-6f);
  EXPECT_EQ(message_of<ValueError>([&] { Softmax({.axis = 3, .name = "s"}).call(x); }),
            "Softmax 's': Axis 3 is out of bounds for input shape (2, 3, 4). Expected axes in "
            "[-3, 3). Received: axis=3.");
  EXPECT_EQ(message_of<ValueError>([&] {
              Softmax({.axis = {1, -2}, .name = "s"}).call(x);
            }),
            "Softmax 's': Duplicate axis. Expected distinct axes. Received: axis=(1, -2).");
}

TEST(SoftmaxLayer, MaskedElementsGetZero) {
  // A (2, 1, 3) mask against (2, 2, 3) scores: row b keeps the columns its mask keeps.
  const Tensor x({2, 2, 3}, {1, 2, 3, 0, 0, 0, 5, 1, 1, 2, 2, 2});
  const Mask mask({2, 1, 3}, {true, true, false, true, false, true});
  const Tensor y = Softmax().call_masked(x, mask);
  const float e = std::exp(1.0f);
  const std::vector<float> expected = {1 / (1 + e),
                                       e / (1 + e),
                                       0,
                                       0.5f,
                                       0.5f,
                                       0,
                                       std::exp(4.0f) / (1 + std::exp(4.0f)),
                                       0,
                                       1 / (1 + std::exp(4.0f)),
                                       0.5f,
                                       0,
                                       0.5f};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(y.data()[i], expected[i], 1e-6) << i;
  EXPECT_EQ(message_of<ValueError>([&] {
              Softmax({.name = "s"}).call_masked(x, Mask({2, 2}, {true, true, true, true}));
            }),
            "Softmax 's': The `mask` must be broadcastable to `inputs`. Each mask dimension must "
            "be 1 or match the corresponding input dimension, and it must not have more "
            "dimensions. Expected a mask that broadcasts to inputs.shape=(2, 2, 3). Received: "
            "mask.shape=(2, 2).");
}

TEST(SoftmaxLayer, BackwardMatchesDifferencesWithAndWithoutMask) {
  const Tensor x = random_normal({2, 3, 4}, 6);
  const Mask mask({2, 1, 4}, {true, false, true, true, false, true, true, true});
  for (const bool masked : {false, true}) {
    for (const IntOrList& axis : {IntOrList(-1), IntOrList(1), IntOrList{1, 2}}) {
      SCOPED_TRACE(axis.to_string() + (masked ? " masked" : ""));
      const LayerCall<Softmax> call{
          [&] { return std::make_unique<Softmax>(Softmax::Args{.axis = axis}); },
          [&](const Softmax& layer, const std::vector<Tensor>& in) {
            return layer.forward_masked(in[0], masked ? std::optional(mask) : std::nullopt);
          },
          [](const Softmax& layer, const LayerForward& f, const Tensor& d,
             std::vector<Tensor>& wg) { return std::vector<Tensor>{layer.backward(f, d, wg)}; }};
      expect_gradients_match_differences(call, {x});
    }
  }
}

TEST(IdentityLayer, ReturnsItsInputItself) {
  const Tensor x = random_normal({2, 3}, 7);
  const Identity identity;
  EXPECT_EQ(identity.call(x).data(), x.data());
  EXPECT_EQ(identity.name(), "identity");
  EXPECT_EQ(Identity::from_config(base_config("i"))->get_config(), base_config("i"));
  expect_gradients_match_differences(
      unary_call<Identity>([] { return std::make_unique<Identity>(); }), {x});
}

}  // namespace
}  // namespace kattn
