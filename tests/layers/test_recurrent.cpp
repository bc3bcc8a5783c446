// LSTM, GRU and SimpleRNN: Keras's loop rules (order, masks, unroll, initial states) on
// one-unit cells small enough to work out by hand, weights and configs as Keras makes them, and
// the errors of bad calls. Keras's own numbers for every cell and option are the golden zoo's
// (tests/models/test_golden_models.cpp).
#include <gtest/gtest.h>

#include "gradient_check.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/simple_rnn.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

// A linear one-unit SimpleRNN on one feature: h_t = (2 x_t + 0.5) + 0.5 h_{t-1}.
SimpleRNN linear_rnn(RNNOptions options) {
  SimpleRNN rnn({.units = 1, .activation = ActivationFunction("linear"), .rnn = options});
  rnn.build({-1, -1, 1});
  rnn.set_weights({Tensor({1, 1}, {2}), Tensor({1, 1}, {0.5f}), Tensor({1}, {0.5f})});
  return rnn;
}

// x = 1, 2, 3 for one sequence.
const Tensor kSteps({1, 3, 1}, {1, 2, 3});

std::vector<const Tensor*> layer_weights(const Layer& layer) {
  std::vector<const Tensor*> values;
  for (const Variable& weight : layer.weights()) values.push_back(&weight.value);
  return values;
}

std::vector<float> output_of(const SimpleRNN& rnn, const RecurrentCallArgs& args = {}) {
  return rnn.call(kSteps, args).output.to_vector();
}

TEST(Recurrent, StepsInOrderOrBackwardsInProcessingOrder) {
  // h1 = 2.5, h2 = 4.5 + 1.25 = 5.75, h3 = 6.5 + 2.875 = 9.375
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true})),
            (std::vector<float>{2.5f, 5.75f, 9.375f}));
  EXPECT_EQ(output_of(linear_rnn({})), (std::vector<float>{9.375f}));
  // Backwards: x3 first: 6.5, then 4.5 + 3.25 = 7.75, then 2.5 + 3.875 = 6.375; the sequence in
  // that (processing) order, the last output the last processed.
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true, .go_backwards = true})),
            (std::vector<float>{6.5f, 7.75f, 6.375f}));
  const RecurrentOutput last = linear_rnn({.go_backwards = true}).call(kSteps);
  EXPECT_EQ(last.output.to_vector(), (std::vector<float>{6.375f}));
  EXPECT_EQ(last.states.at(0).to_vector(), (std::vector<float>{6.375f}));
}

TEST(Recurrent, MaskedStepsKeepTheStatesAndRepeatTheOutput) {
  // Step 1 masked, from the initial state h0 = 4: h stays 4; then h2 = 4.5 + 2 = 6.5,
  // h3 = 6.5 + 3.25 = 9.75.
  const RecurrentCallArgs args{.mask = Mask({1, 3}, {false, true, true}),
                               .initial_state = {Tensor({1, 1}, {4})}};
  // Keras's scan loop outputs the previous h (the initial state here), or zeros.
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true}), args),
            (std::vector<float>{4, 6.5f, 9.75f}));
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true, .zero_output_for_mask = true}), args),
            (std::vector<float>{0, 6.5f, 9.75f}));
  // Its unrolled loop outputs the previous step's output (zeros before the first step) and
  // does not read zero_output_for_mask.
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true, .unroll = true}), args),
            (std::vector<float>{0, 6.5f, 9.75f}));
  // A trailing masked step repeats the last real output, also as the last output.
  const RecurrentCallArgs trailing{.mask = Mask({1, 3}, {true, true, false})};
  EXPECT_EQ(output_of(linear_rnn({.return_sequences = true}), trailing),
            (std::vector<float>{2.5f, 5.75f, 5.75f}));
  EXPECT_EQ(output_of(linear_rnn({.zero_output_for_mask = true}), trailing),
            (std::vector<float>{0}));
  // A fully padded row keeps its initial state.
  const RecurrentOutput padded = linear_rnn({.return_state = true})
                                     .call(kSteps, {.mask = Mask({1, 3}, {false, false, false})});
  EXPECT_EQ(padded.states.at(0).to_vector(), (std::vector<float>{0}));
}

TEST(Recurrent, WeightsAreNamedAndShapedAsKerasMakesThem) {
  LSTM lstm({.units = 3});
  lstm.build({-1, -1, 5});
  ASSERT_EQ(lstm.weights().size(), 3U);
  EXPECT_EQ(lstm.weight_path(lstm.weights()[0]), "lstm/lstm_cell/kernel");
  EXPECT_EQ(lstm.weights()[0].value.shape(), (Shape{5, 12}));
  EXPECT_EQ(lstm.weights()[1].value.shape(), (Shape{3, 12}));
  // unit_forget_bias: ones in the forget gate's block.
  EXPECT_EQ(lstm.weights()[2].value.to_vector(),
            (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(lstm.weight_layout().datasets,
            (std::vector<std::string>{"cell/vars/0", "cell/vars/1", "cell/vars/2"}));

  GRU after({.units = 2});
  after.build({-1, -1, 4});
  EXPECT_EQ(after.weight_path(after.weights()[2]), "gru/gru_cell/bias");
  EXPECT_EQ(after.weights()[2].value.shape(), (Shape{2, 6}));
  GRU before({.units = 2, .reset_after = false});
  before.build({-1, -1, 4});
  EXPECT_EQ(before.weights()[2].value.shape(), (Shape{6}));
  SimpleRNN plain({.units = 2, .use_bias = false});
  plain.build({-1, -1, 4});
  EXPECT_EQ(plain.weights().size(), 2U);
  EXPECT_EQ(plain.weight_path(plain.weights()[1]), "simple_rnn/simple_rnn_cell/recurrent_kernel");
}

TEST(Recurrent, OutputShapesFollowTheOptions) {
  const LSTM lstm({.units = 3, .rnn = {.return_sequences = true, .return_state = true}});
  EXPECT_EQ(lstm.compute_output_shape({-1, 7, 5}),
            (std::vector<Shape>{{-1, 7, 3}, {-1, 3}, {-1, 3}}));
  const GRU gru({.units = 3, .rnn = {.return_state = true}});
  EXPECT_EQ(gru.compute_output_shape({2, 7, 5}), (std::vector<Shape>{{2, 3}, {2, 3}}));
}

TEST(Recurrent, ConfigsRoundTripWithKerasKeys) {
  const LSTM lstm({.units = 4,
                   .recurrent_activation = ActivationFunction("hard_sigmoid"),
                   .unit_forget_bias = false,
                   .dropout = 1.5,
                   .seed = 7,
                   .rnn = {.return_sequences = true, .go_backwards = true},
                   .name = "encoder"});
  const Config config = lstm.get_config();
  EXPECT_EQ(config["dropout"], 1.0);  // clamped, as Keras does
  EXPECT_EQ(config["recurrent_activation"], "hard_sigmoid");
  EXPECT_EQ(config["recurrent_initializer"]["class_name"], "Orthogonal");
  EXPECT_EQ(LSTM::from_config(config)->get_config(), config);

  const Config gru = GRU({.units = 2, .reset_after = false}).get_config();
  EXPECT_EQ(gru["reset_after"], false);
  EXPECT_FALSE(gru.contains("unit_forget_bias"));
  EXPECT_EQ(GRU::from_config(gru)->get_config(), gru);

  // Keras 3.16's SimpleRNN writes no recurrent_activation and no seed.
  const Config simple = SimpleRNN({.units = 2, .seed = 3}).get_config();
  EXPECT_FALSE(simple.contains("recurrent_activation"));
  EXPECT_FALSE(simple.contains("seed"));
  EXPECT_EQ(SimpleRNN::from_config(simple)->get_config(), simple);

  Config unknown = simple;
  unknown["implementation"] = 2;
  EXPECT_NE(message_of<ValueError>([&] { SimpleRNN::from_config(unknown); }).find("implementation"),
            std::string::npos);
}

TEST(Recurrent, BadCallsAreRefusedByName) {
  const LSTM lstm({.units = 2, .name = "decoder"});
  const Tensor x({2, 3, 4});
  EXPECT_EQ(message_of<ValueError>([&] {
              lstm.call(x, {.initial_state = {Tensor({2, 2})}});
            }),
            "LSTM 'decoder': invalid call argument `initial_state`. Expected 2 tensors [h, c], "
            "each of shape (2, 2). Received: 1 tensor(s) of shapes [(2, 2)].");
  EXPECT_EQ(message_of<ValueError>([&] {
              lstm.call(x, {.initial_state = {Tensor({2, 2}), Tensor({2, 3})}});
            }),
            "LSTM 'decoder': invalid call argument `initial_state`. Expected 2 tensors [h, c], "
            "each of shape (2, 2). Received: 2 tensor(s) of shapes [(2, 2), (2, 3)].");
  EXPECT_EQ(message_of<ValueError>([&] {
              lstm.call(x, {.mask = Mask({2, 4})});
            }),
            "LSTM 'decoder': invalid call argument `mask`. Expected a mask of shape (2, 3) "
            "(batch, timesteps) for sequences (2, 3, 4). Received: shape=(2, 4).");
  EXPECT_EQ(message_of<ValueError>([&] {
              lstm.call(Tensor({2, 3, 5}));
            }),
            "LSTM 'decoder': Input 0 is incompatible with the layer. Expected sequences (batch, "
            "timesteps, 4). Received: shape=(2, 3, 5).");
  EXPECT_EQ(message_of<ValueError>([] {
              GRU({.units = 2}).call(Tensor({2, 4}));
            }),
            "GRU 'gru': Input 0 is incompatible with the layer. Expected sequences of rank 3 "
            "(batch, timesteps, features) with known features. Received: shape=(2, 4).");
  EXPECT_EQ(message_of<NotSupportedError>([] { GRU({.units = 2, .rnn = {.stateful = true}}); }),
            "GRU 'gru_1': stateful recurrent layers are not implemented. Expected stateful=False. "
            "Received: stateful=True.");
}

// Dropout in training calls: a seeded layer draws the same masks on its first call, inference
// ignores the rates, and the backward of a call uses that call's masks (differences of fresh
// layers with the same seed and weights).
TEST(Recurrent, TrainingCallsDropAsTheCellsDo) {
  const Tensor x = testing::random_normal({3, 4, 5}, 1);
  const auto make = [] {
    auto layer = std::make_unique<LSTM>(
        LSTM::Args{.units = 3, .dropout = 0.4, .recurrent_dropout = 0.3, .seed = 7, .rnn = {}});
    layer->build({3, 4, 5});
    std::vector<Tensor> weights;
    for (const Tensor& w : layer->get_weights()) {
      weights.push_back(testing::random_normal(w.shape(), 10 + weights.size()));
    }
    layer->set_weights(weights);
    return layer;
  };
  const auto inference = make()->call(x).output.to_vector();
  EXPECT_EQ(make()->call(x, {.training = false}).output.to_vector(), inference);
  const auto dropped = make()->call(x, {.training = true}).output.to_vector();
  EXPECT_NE(dropped, inference);
  EXPECT_EQ(make()->call(x, {.training = true}).output.to_vector(), dropped);  // same seed

  const auto layer = make();
  const RecurrentForward forward =
      layer->forward_with(layer_weights(*layer), x, {.training = true});
  EXPECT_EQ(forward.result.output.to_vector(), dropped);
  const Tensor d_output = testing::random_normal({3, 3}, 2);
  std::vector<Tensor> weight_gradients = layer->zero_gradients();
  const RecurrentInputGradients grads =
      layer->backward_with(layer_weights(*layer), forward, &d_output, {}, weight_gradients);
  Tensor inputs = x.clone();
  const auto loss = [&] {
    const auto fresh = make();
    return testing::dot_sum(fresh->call(inputs, {.training = true}).output, d_output);
  };
  EXPECT_TRUE(testing::gradients_agree(grads.sequences,
                                       testing::numeric_gradient(inputs, loss, testing::kFloatStep),
                                       testing::kFloatAtol, testing::kFloatRtol));
}

}  // namespace
}  // namespace kattn
