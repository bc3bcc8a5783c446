// The element-wise Keras activations with their default arguments, and log_softmax: float32 values
// against Keras 3 (numpy backend) and the backward against central finite differences, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;

struct KerasValues {
  const char* name;
  std::vector<float> expected;
};

// keras.activations.get(name)(x) for float32 x = [-3.5, -1, -0.25, 0, 0.3, 0.75, 2, 7].
const std::vector<KerasValues>& keras_values() {
  static const std::vector<KerasValues> all = {
      {"relu6", {0, 0, 0, 0, 0.3f, 0.75f, 2, 6}},
      {"leaky_relu", {-0.7f, -0.2f, -0.05f, 0, 0.3f, 0.75f, 2, 7}},
      {"elu",
       {-0.9698026180267334f, -0.6321205496788025f, -0.22119921445846558f, 0, 0.3f, 0.75f, 2, 7}},
      {"selu",
       {-1.7050093412399292f, -1.1113307476043701f, -0.38889017701148987f, 0, 0.3152103126049042f,
        0.7880257368087769f, 2.1014020442962646f, 7.354907035827637f}},
      {"celu",
       {-0.9698026180267334f, -0.6321205496788025f, -0.22119921445846558f, 0, 0.3f, 0.75f, 2, 7}},
      {"softplus",
       {0.029750417917966843f, 0.3132616877555847f, 0.575939416885376f, 0.6931471824645996f,
        0.8543552756309509f, 1.1368709802627563f, 2.1269280910491943f, 7.000911235809326f}},
      {"log_sigmoid",
       {-3.529750347137451f, -1.3132617473602295f, -0.825939416885376f, -0.6931471824645996f,
        -0.554355263710022f, -0.38687101006507874f, -0.12692800164222717f, -0.000911466486286372f}},
      {"exponential",
       {0.03019738383591175f, 0.3678794205188751f, 0.7788007259368896f, 1, 1.3498587608337402f,
        2.117000102996826f, 7.3890557289123535f, 1096.6331787109375f}},
      {"mish",
       {-0.10409574955701828f, -0.30340147018432617f, -0.12992696464061737f, 0,
        0.20800140500068665f, 0.6100183129310608f, 1.9439588785171509f, 6.999988555908203f}},
      {"hard_silu",
       {0, -0.3333333134651184f, -0.1145833358168602f, 0, 0.16500000655651093f, 0.46875f,
        1.6666667461395264f, 7}},
      {"hard_swish",
       {0, -0.3333333134651184f, -0.1145833358168602f, 0, 0.16500000655651093f, 0.46875f,
        1.6666667461395264f, 7}},
      {"tanh_shrink",
       {-2.501821994781494f, -0.23840582370758057f, -0.005081340670585632f, 0,
        0.008687376976013184f, 0.11485099792480469f, 1.0359723567962646f, 6.000001907348633f}},
      {"hard_tanh", {-1, -1, -0.25f, 0, 0.3f, 0.75f, 1, 1}},
      {"squareplus",
       {0.2655644416809082f, 0.6180340051651001f, 0.8827822208404541f, 1, 1.1611874103546143f,
        1.4430004358291626f, 2.4142136573791504f, 7.140054702758789f}},
      {"sparse_plus", {0, 0, 0.140625f, 0.25f, 0.42249995470046997f, 0.765625f, 2, 7}},
      {"sparse_sigmoid", {0, 0, 0.375f, 0.5f, 0.65f, 0.875f, 1, 1}},
      {"soft_shrink", {-3, -0.5f, 0, 0, 0, 0.25f, 1.5f, 6.5f}},
      {"hard_shrink", {-3.5f, -1, 0, 0, 0, 0.75f, 2, 7}},
  };
  return all;
}

TEST(ElementwiseActivations, ValuesAsKerasComputesThem) {
  for (const KerasValues& keras : keras_values()) {
    Tensor y({8}, {-3.5f, -1, -0.25f, 0, 0.3f, 0.75f, 2, 7});
    ActivationFunction(keras.name)(y);
    const std::vector<float> actual = y.to_vector();
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_NEAR(actual[i], keras.expected[i], 1e-6 + 1e-6 * std::abs(keras.expected[i]))
          << keras.name << " at element " << i;
    }
  }
}

TEST(ElementwiseActivations, AliasesSerialiseAsTheirTargets) {
  EXPECT_EQ(ActivationFunction("hard_swish").get_config(), "hard_silu");
  EXPECT_EQ(ActivationFunction::from_config("mish").get_config(), "mish");
  EXPECT_TRUE(ActivationFunction("elu").backward_reads_inputs());
  EXPECT_FALSE(ActivationFunction("tanh").backward_reads_inputs());
}

TEST(ElementwiseActivations, BackwardMatchesCentralDifferencesInDouble) {
  // Away from every kink (0, +-0.5, +-1, +-3, 6).
  const std::vector<double> points = {-3.7, -2.2, -1.3, -0.7, -0.2, 0.3, 0.8, 1.6, 2.4, 4.1, 6.6};
  const auto n = static_cast<int64_t>(points.size());
  TensorF64 weights({n});
  for (int64_t i = 0; i < n; ++i) weights.data()[i] = 0.3 + 0.17 * static_cast<double>(i % 5);
  for (const KerasValues& keras : keras_values()) {
    const ActivationFunction activation(keras.name);
    TensorF64 x({n}, points);
    const auto loss = [&] {
      TensorF64 y = x.clone();
      activation(y);
      return dot_sum(y, weights);
    };
    TensorF64 y = x.clone();
    activation(y);
    const TensorF64 actual = activation.backward(x, y, weights);
    EXPECT_TRUE(gradients_agree(actual, numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6)) << keras.name;
  }
}

TEST(LogSoftmax, ValuesAndBackwardOverTheLastAxis) {
  // Rows [0, ln 3] -> [ln 1/4, ln 3/4] and [5, 5] -> [ln 1/2, ln 1/2].
  Tensor y({2, 2}, {0, std::log(3.0f), 5, 5});
  const ActivationFunction log_softmax("log_softmax");
  log_softmax(y);
  const std::vector<float> expected = {std::log(0.25f), std::log(0.75f), std::log(0.5f),
                                       std::log(0.5f)};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(y.to_vector()[i], expected[i], 1e-6);
  EXPECT_FALSE(log_softmax.backward_reads_inputs());

  TensorF64 x({2, 3}, {-1.2, 0.4, 2.1, 0.7, 0.7, -3.0});
  const TensorF64 weights({2, 3}, {0.5, -1.1, 0.3, 2.0, 0.25, -0.6});
  const auto loss = [&] {
    TensorF64 out = x.clone();
    log_softmax(out);
    return dot_sum(out, weights);
  };
  TensorF64 out = x.clone();
  log_softmax(out);
  EXPECT_TRUE(gradients_agree(log_softmax.backward(TensorF64(), out, weights),
                              numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6));
}

}  // namespace
}  // namespace kattn

namespace kattn {
namespace {

TEST(Sparsemax, ValuesAsKerasComputesThem) {
  // Keras's threshold sums the running sums over the support: rows need not sum to 1, and the
  // last row is all 0.
  Tensor x({3, 4}, {1, 0.5f, -1, 0.25f, 0.2f, 0.1f, 0.3f, -2, 3, -1, -1, 2.5f});
  ActivationFunction("sparsemax")(x);
  const std::vector<float> expected = {
      0.25f, 0, 0, 0, 0.06666663785775503f, 0, 0.16666664679845175f, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(x.data()[i], expected[i], 1e-7) << i;
}

TEST(Sparsemax, BackwardMatchesCentralDifferencesInDouble) {
  const ActivationFunction sparsemax("sparsemax");
  TensorF64 x({2, 5}, {0.9, 0.7, -0.4, 0.35, 0.1, 1.3, 1.1, 0.95, -0.2, 0.6});
  const TensorF64 weights({2, 5}, {0.3, -0.5, 0.8, 0.2, 1.1, -0.7, 0.4, 0.9, 0.1, -0.3});
  const auto loss = [&] {
    TensorF64 y = x.clone();
    sparsemax(y);
    return testing::dot_sum(y, weights);
  };
  TensorF64 y = x.clone();
  sparsemax(y);
  EXPECT_TRUE(testing::gradients_agree(sparsemax.backward(x, y, weights),
                                       testing::numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6));
}

TEST(Glu, IsRefusedWithTheReason) { EXPECT_THROW(ActivationFunction("glu"), NotSupportedError); }

}  // namespace
}  // namespace kattn
