// keras.activations.relu, leaky_relu and elu with their arguments (the ReLU, LeakyReLU and ELU
// layers): float32 values against Keras 3 (numpy backend) and the backward against central
// finite differences, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/ops/rectifiers.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;

struct KerasValues {
  std::string layer;
  Rectifier rectifier;
  std::vector<float> expected;
};

// The layer's call on float32 x = [-3.5, -1, -0.25, 0, 0.3, 0.75, 2, 7] in Keras 3.
const std::vector<KerasValues>& keras_values() {
  static const std::vector<KerasValues> all = {
      {"ReLU()", Rectifier::relu(), {0, 0, 0, 0, 0.3f, 0.75f, 2, 7}},
      {"ReLU(max_value=1.5)", Rectifier::relu(0.0, 1.5), {0, 0, 0, 0, 0.3f, 0.75f, 1.5f, 1.5f}},
      {"ReLU(negative_slope=0.1, threshold=0.3)",
       Rectifier::relu(0.1, std::nullopt, 0.3),
       {-0.3799999952316284f, -0.12999999523162842f, -0.055000003427267075f, -0.030000001192092896f,
        0, 0.75f, 2, 7}},
      {"ReLU(negative_slope=0.2, max_value=6)",
       Rectifier::relu(0.2, 6.0),
       {-0.699999988079071f, -0.20000000298023224f, -0.05000000074505806f, 0, 0.3f, 0.75f, 2, 6}},
      // leaky_relu's max(x, slope * x), also for a slope above 1
      {"ReLU(negative_slope=1.5)",
       Rectifier::relu(1.5),
       {-3.5f, -1, -0.25f, 0, 0.45000001788139343f, 1.125f, 3, 10.5f}},
      {"ReLU(threshold=1, max_value=5)", Rectifier::relu(0.0, 5.0, 1.0), {0, 0, 0, 0, 0, 0, 2, 5}},
      {"LeakyReLU()",
       Rectifier::leaky_relu(0.3),
       {-1.0500000715255737f, -0.30000001192092896f, -0.07500000298023224f, 0, 0.3f, 0.75f, 2, 7}},
      {"ELU(alpha=0.7)",
       Rectifier::elu(0.7),
       {-0.6788617968559265f, -0.44248437881469727f, -0.1548394411802292f, 0, 0.3f, 0.75f, 2, 7}},
  };
  return all;
}

TEST(Rectifiers, ValuesAsKerasComputesThem) {
  const Tensor x({8}, {-3.5f, -1, -0.25f, 0, 0.3f, 0.75f, 2, 7});
  for (const KerasValues& keras : keras_values()) {
    const std::vector<float> actual = keras.rectifier(x).to_vector();
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_NEAR(actual[i], keras.expected[i], 1e-7 + 1e-7 * std::abs(keras.expected[i]))
          << keras.layer << " at element " << i;
    }
  }
}

TEST(Rectifiers, BackwardMatchesCentralDifferencesInDouble) {
  // Away from every kink (0, the thresholds 0.3 and 1, the clips 1.5, 5 and 6).
  const std::vector<double> points = {-3.7, -2.2, -1.3, -0.7, -0.2, 0.2, 0.6, 1.2, 1.9, 4.1, 6.6};
  const auto n = static_cast<int64_t>(points.size());
  TensorF64 weights({n});
  for (int64_t i = 0; i < n; ++i) weights.data()[i] = 0.3 + 0.17 * static_cast<double>(i % 5);
  for (const KerasValues& keras : keras_values()) {
    TensorF64 x({n}, points);
    const auto loss = [&] { return dot_sum(keras.rectifier(x), weights); };
    const TensorF64 actual = keras.rectifier.backward(x, weights);
    EXPECT_TRUE(gradients_agree(actual, numeric_gradient(x, loss, 1e-6), 1e-7, 1e-6))
        << keras.layer;
  }
}

TEST(Rectifiers, DerivativeAtTheKinks) {
  // 0 where clipped or at the threshold; the negative slope below it.
  const Tensor x({4}, {0.3f, 1.5f, -1.0f, 0.0f});
  const Tensor d = Tensor::full({4}, 1.0f);
  EXPECT_EQ(Rectifier::relu(0.1, 1.5, 0.3).backward(x, d).to_vector(),
            (std::vector<float>{0.0f, 0.0f, 0.1f, 0.1f}));
  EXPECT_EQ(Rectifier::elu(0.5).backward(x, d).to_vector(),
            (std::vector<float>{1.0f, 1.0f, 0.5f * std::exp(-1.0f), 1.0f}));
}

}  // namespace
}  // namespace kattn
