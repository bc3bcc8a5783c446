// TimeDistributed: the wrapped layer on every step (against the layer called step by step),
// shapes, the wrapped layer's weights under the wrapper, configs (read with the models' registry
// of classes) and file layout as Keras writes them, the mask rules of Keras 3.16 and 3.15, and
// Keras's errors. Keras's own numbers are the
// golden zoo's seq2seq cases (tests/models/test_golden_models.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/time_distributed.hpp"
#include "layer_test_util.hpp"
#include "models/operation_registry.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

// The models' registry, as load_model hands it to TimeDistributed.
std::shared_ptr<Operation> deserialize(const Config& entry) {
  return detail::operation_from_config(entry);
}

using testing::message_of;

std::shared_ptr<Dense> dense(std::string name = "vocab_dense") {
  return std::make_shared<Dense>(Dense::Args{
      .units = 3, .activation = ActivationFunction("softmax"), .name = std::move(name)});
}

TEST(TimeDistributed, RunsTheLayerOnEveryStep) {
  const Tensor x = testing::random_normal({2, 4, 5}, 1);
  TimeDistributed layer({.layer = dense()});
  const Tensor y = layer.call(x);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(layer.compute_output_shape({-1, -1, 5}), (Shape{-1, -1, 3}));
  Dense alone({.units = 3, .activation = ActivationFunction("softmax")});
  alone.build({2, 5});
  alone.set_weights(layer.get_weights());
  for (int64_t t = 0; t < 4; ++t) {
    const Tensor step = alone.call(x.slice(1, t, t + 1).reshape({2, 5}));
    EXPECT_EQ(step.to_vector(), y.slice(1, t, t + 1).contiguous().reshape({2, 3}).to_vector());
  }
  // Rank-4 inputs: Conv1D over (B, T, L, C).
  TimeDistributed conv({.layer = std::make_shared<Conv1D>(
                            Conv1D::Args{.filters = 2, .kernel_size = 3, .padding = "same"})});
  EXPECT_EQ(conv.call(testing::random_normal({2, 3, 6, 4}, 2)).shape(), (Shape{2, 3, 6, 2}));
}

TEST(TimeDistributed, WeightsAreTheLayersUnderTheWrapper) {
  TimeDistributed layer({.layer = dense()});
  layer.build({-1, -1, 5});
  ASSERT_EQ(layer.weights().size(), 2u);
  EXPECT_EQ(layer.weights()[0].name, "vocab_dense/kernel");
  EXPECT_EQ(layer.weights()[1].name, "vocab_dense/bias");
  const WeightLayout layout = layer.weight_layout();
  EXPECT_EQ(layout.datasets, (std::vector<std::string>{"layer/vars/0", "layer/vars/1"}));
  // A change of the weights reaches the calls.
  const Tensor x = testing::random_normal({1, 2, 5}, 3);
  const std::vector<float> before = layer.call(x).to_vector();
  // Not a constant: the softmax would not see it.
  layer.set_weight("vocab_dense/bias", Tensor({3}, {2.0f, 0.0f, -1.0f}));
  EXPECT_NE(layer.call(x).to_vector(), before);
  std::vector<Variable>& update = layer.weights_for_update();
  update[0].value.fill(0.0f);
  // x W + b = b: softmax([2, 0, -1]) on both steps.
  const float sum = std::exp(2.0f) + 1.0f + std::exp(-1.0f);
  const std::vector<float> expected = {std::exp(2.0f) / sum, 1.0f / sum, std::exp(-1.0f) / sum};
  const std::vector<float> y = layer.call(x).to_vector();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected[i % 3], 1e-6) << i;
}

TEST(TimeDistributed, ConfigRoundTripsAsKerasWritesIt) {
  TimeDistributed layer({.layer = dense(), .name = "time_distributed"});
  layer.build({-1, -1, 8});
  const Config config = layer.get_config();
  EXPECT_EQ(config["layer"]["class_name"], "Dense");
  EXPECT_EQ(config["layer"]["config"]["name"], "vocab_dense");
  EXPECT_EQ(config["layer"]["build_config"]["input_shape"], Config::parse("[null, 8]"));
  const std::unique_ptr<TimeDistributed> again = TimeDistributed::from_config(config, deserialize);
  EXPECT_EQ(again->wrapped_layer().get_config(), layer.wrapped_layer().get_config());
  EXPECT_EQ(again->name(), "time_distributed");
}

TEST(TimeDistributed, MasksFollowTheKerasVersion) {
  const Tensor x = testing::random_normal({2, 3, 4}, 4);
  const Mask mask({2, 3}, {true, true, false, true, false, false});
  TimeDistributed layer({.layer = dense()});
  EXPECT_FALSE(layer.compute_mask(x, mask).has_value());  // Keras 3.16
  layer.follow_keras_version({3, 15, 1});
  EXPECT_EQ(layer.compute_mask(x, mask)->to_vector(), mask.to_vector());
  // A Dense does not take the mask: the steps are computed all the same.
  EXPECT_EQ(layer.call_masked(x, mask).to_vector(), layer.call(x).to_vector());
}

TEST(TimeDistributed, BadInputsAreRefusedAsKerasRefusesThem) {
  EXPECT_EQ(message_of<ValueError>([] { TimeDistributed({}); }),
            "TimeDistributed 'time_distributed': Please initialize `TimeDistributed` layer with "
            "a `keras.layers.Layer` instance. Expected a layer. Received: None.");
  TimeDistributed layer({.layer = dense()});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 4}));
            }),
            "TimeDistributed 'time_distributed_1': `TimeDistributed` Layer should be passed an "
            "`input_shape` with at least 3 dimensions. Expected inputs of rank >= 3 (batch, "
            "time, ...). Received: shape=(2, 4).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call_masked(Tensor({2, 3, 4}), Mask({2, 4}));
            }),
            "TimeDistributed 'time_distributed_1': The `mask` passed to the `TimeDistributed` "
            "layer must be at least 2D and its first two dimensions (batch size and timesteps) "
            "must match the input's. Expected a mask of shape (2, 3, ...). Received: "
            "shape=(2, 4).");
  const Config lstm = {{"module", "keras.layers"},
                       {"class_name", "LSTM"},
                       {"config", LSTM({.units = 2}).get_config()}};
  EXPECT_EQ(message_of<NotSupportedError>([&] {
              TimeDistributed::from_config({{"name", "td"}, {"layer", lstm}}, deserialize);
            }),
            "TimeDistributed 'td': unsupported wrapped layer. Expected a layer called on one "
            "tensor (Dense, EinsumDense, Conv1D, Activation, ...). Received: layer=LSTM.");
}

}  // namespace
}  // namespace kattn
