// Bidirectional and RepeatVector: the inner layers Keras makes (names, go_backwards, forced
// zero_output_for_mask), merges worked out from the two directions run alone, weights and
// configs as Keras writes them, and Keras's errors. Keras's own numbers are the golden zoo's
// (tests/models/test_golden_models.cpp).
#include <gtest/gtest.h>

#include "kattn/layers/bidirectional.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/repeat_vector.hpp"
#include "kattn/layers/simple_rnn.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

std::shared_ptr<LSTM> lstm(RNNOptions options, std::string name = "lstm") {
  return std::make_shared<LSTM>(LSTM::Args{.units = 2, .rnn = options, .name = std::move(name)});
}

Tensor ramp(Shape shape) {
  Tensor x(std::move(shape));
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  return x;
}

TEST(Bidirectional, MakesKerasInnerLayers) {
  const Bidirectional layer({.layer = lstm({.return_sequences = true})});
  EXPECT_EQ(layer.forward_layer().name(), "forward_lstm");
  // Named after the layer given (Keras strips "backward_" from its name, not "forward_").
  EXPECT_EQ(layer.backward_layer().name(), "backward_lstm");
  EXPECT_FALSE(layer.forward_layer().options().go_backwards);
  EXPECT_TRUE(layer.backward_layer().options().go_backwards);
  // zero_output_for_mask follows return_sequences on both.
  EXPECT_TRUE(layer.forward_layer().options().zero_output_for_mask);
  EXPECT_TRUE(layer.backward_layer().options().zero_output_for_mask);
  const Bidirectional named({.layer = lstm({}, "forward_encoder")});
  EXPECT_EQ(named.forward_layer().name(), "forward_encoder");
  EXPECT_FALSE(named.forward_layer().options().zero_output_for_mask);
}

// Each merge of the two directions, against the inner layers run alone with the same weights.
TEST(Bidirectional, MergesTheTwoDirections) {
  const Tensor x = ramp({2, 4, 3});
  const RecurrentCallArgs args{.mask = Mask({2, 4}, {true, true, true, true,  //
                                                     true, true, false, false})};
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    Bidirectional layer({.layer = lstm({.return_sequences = true}), .merge_mode = mode});
    const std::vector<Tensor> merged = layer.call(x, args);
    ASSERT_EQ(merged.size(), 1U);
    Bidirectional unmerged({.layer = lstm({.return_sequences = true}), .merge_mode = std::nullopt});
    unmerged.build(x.shape());
    unmerged.set_weights(layer.get_weights());
    const std::vector<Tensor> both = unmerged.call(x, args);
    ASSERT_EQ(both.size(), 2U);
    const std::vector<float> f = both[0].to_vector(), b = both[1].to_vector();
    const std::vector<float> out = merged[0].to_vector();
    for (size_t row = 0; row < f.size() / 2; ++row) {
      for (size_t j = 0; j < 2; ++j) {
        const float fv = f[row * 2 + j], bv = b[row * 2 + j];
        if (std::string(mode) == "concat") {
          EXPECT_EQ(out[row * 4 + j], fv);
          EXPECT_EQ(out[row * 4 + 2 + j], bv);
        } else {
          const float expected = std::string(mode) == "sum"   ? fv + bv
                                 : std::string(mode) == "mul" ? fv * bv
                                                              : (fv + bv) / 2;
          EXPECT_EQ(out[row * 2 + j], expected) << mode;
        }
      }
    }
  }
  // The backward sequence comes back in time order: its value at the last real step of the
  // padded row is the backward layer's first real step, run alone on that one step.
  Bidirectional layer({.layer = lstm({.return_sequences = true}), .merge_mode = std::nullopt});
  const std::vector<Tensor> both = layer.call(x, args);
  LSTM alone({.units = 2, .rnn = {.return_sequences = true, .go_backwards = true}});
  alone.build(x.shape());
  alone.set_weights({layer.get_weights()[3], layer.get_weights()[4], layer.get_weights()[5]});
  const Tensor one = alone.call(x.slice(0, 1, 2).slice(1, 1, 2)).output;  // (1, 1, 2)
  EXPECT_EQ(both[1](1, 1, 0), one(0, 0, 0));
  EXPECT_EQ(both[1](1, 1, 1), one(0, 0, 1));
  // Masked steps of returned sequences are zeros in both directions.
  EXPECT_EQ(both[0](1, 3, 0), 0.0f);
  EXPECT_EQ(both[1](1, 2, 1), 0.0f);
}

TEST(Bidirectional, StatesFollowTheOutputsForwardFirst) {
  const Bidirectional layer({.layer = lstm({.return_state = true}), .merge_mode = std::nullopt});
  EXPECT_EQ(layer.compute_output_shape({-1, 5, 3}),
            (std::vector<Shape>{{-1, 2}, {-1, 2}, {-1, 2}, {-1, 2}, {-1, 2}, {-1, 2}}));
  const Bidirectional concat(
      {.layer = std::make_shared<GRU>(
           GRU::Args{.units = 3, .rnn = {.return_sequences = true, .return_state = true}})});
  EXPECT_EQ(concat.compute_output_shape({4, 5, 3}),
            (std::vector<Shape>{{4, 5, 6}, {4, 3}, {4, 3}}));
  // initial_state is split in halves: the forward states, then the backward ones.
  const Tensor x = ramp({1, 3, 3});
  const std::vector<Tensor> outputs =
      concat.call(x, {.initial_state = {Tensor({1, 3}, {1, 2, 3}), Tensor({1, 3})}});
  ASSERT_EQ(outputs.size(), 3U);
  EXPECT_EQ(message_of<ValueError>([&] {
              concat.call(x, {.initial_state = {Tensor({1, 3})}});
            }),
            "Bidirectional 'bidirectional_1': invalid call argument `initial_state`. Expected 2 "
            "tensors: the forward layer's [h], then the backward layer's. Received: 1 "
            "tensor(s).");
  EXPECT_EQ(message_of<ValueError>([&] {
              concat.call(x, {.initial_state = {Tensor({1, 3}), Tensor({1, 4})}});
            }),
            "GRU 'backward_gru': invalid call argument `initial_state`. Expected 1 "
            "tensor [h] of shape (1, 3). Received: 1 tensor(s) of shapes [(1, 4)].");
}

TEST(Bidirectional, WeightsAndConfigsAsKerasWritesThem) {
  Bidirectional layer({.layer = lstm({.return_sequences = true}), .name = "encoder"});
  layer.build({-1, -1, 3});
  ASSERT_EQ(layer.weights().size(), 6U);
  EXPECT_EQ(layer.weight_path(layer.weights()[0]), "encoder/forward_lstm/lstm_cell/kernel");
  EXPECT_EQ(layer.weight_path(layer.weights()[5]), "encoder/backward_lstm/lstm_cell/bias");
  EXPECT_EQ(layer.weights()[5].value(3), 1.0f);  // unit_forget_bias in both layers
  const WeightLayout layout = layer.weight_layout();
  EXPECT_EQ(layout.datasets.front(), "forward_layer/cell/vars/0");
  EXPECT_EQ(layout.datasets.back(), "backward_layer/cell/vars/2");
  EXPECT_EQ(layout.groups.at(1),
            (std::pair<std::string, std::string>{"forward_layer/vars", "forward_lstm"}));
  const Config config = layer.get_config();
  EXPECT_EQ(config["merge_mode"], "concat");
  EXPECT_EQ(config["layer"]["class_name"], "LSTM");
  EXPECT_EQ(config["layer"]["build_config"]["input_shape"], Config::parse("[null, null, 3]"));
  EXPECT_EQ(config["backward_layer"]["config"]["go_backwards"], true);
  const std::unique_ptr<Bidirectional> copy = Bidirectional::from_config(config);
  copy->build({-1, -1, 3});
  EXPECT_EQ(copy->get_config(), config);
}

TEST(Bidirectional, RefusesWhatKerasRefuses) {
  EXPECT_EQ(message_of<ValueError>([] { Bidirectional({.layer = lstm({}), .merge_mode = "max"}); }),
            "Bidirectional 'bidirectional': Invalid merge mode. Expected one of {\"sum\", "
            "\"mul\", \"ave\", \"concat\", None}. Received: max.");
  EXPECT_NE(message_of<ValueError>([] { Bidirectional({}); }).find("Please initialize"),
            std::string::npos);
  EXPECT_NE(message_of<ValueError>([] {
              Bidirectional({.layer = lstm({}), .backward_layer = lstm({}, "other")});
            }).find("different `go_backwards`"),
            std::string::npos);
  EXPECT_NE(
      message_of<ValueError>([] {
        Bidirectional({.layer = lstm({}),
                       .backward_layer = lstm({.return_sequences = true, .go_backwards = true})});
      }).find("same value for attribute \"return_sequences\""),
      std::string::npos);
}

// The README's example, as written there.
TEST(Bidirectional, ReadmeExample) {
  const Tensor x = ramp({2, 5, 3});
  const Mask padding({2, 5}, {true, true, true, true, true, true, true, true, false, false});
  auto lstm = std::make_shared<kattn::LSTM>(
      kattn::LSTM::Args{.units = 64, .rnn = {.return_sequences = true, .return_state = true}});
  kattn::RecurrentOutput out = lstm->call(x, {.mask = padding});  // x (B, T, F), padding (B, T)
  EXPECT_EQ(out.output.shape(), (Shape{2, 5, 64}));
  ASSERT_EQ(out.states.size(), 2U);
  kattn::Bidirectional encoder({.layer = lstm, .merge_mode = "concat"});
  std::vector<kattn::Tensor> outputs = encoder.call(x);  // [(B, T, 128), h_f, c_f, h_b, c_b]
  ASSERT_EQ(outputs.size(), 5U);
  EXPECT_EQ(outputs[0].shape(), (Shape{2, 5, 128}));
  EXPECT_EQ(outputs[4].shape(), (Shape{2, 64}));
}

TEST(RepeatVector, RepeatsEveryRow) {
  const RepeatVector repeat({.n = 3});
  const Tensor x({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(repeat.call(x).to_vector(), (std::vector<float>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  EXPECT_EQ(repeat.compute_output_shape({-1, 5}), (Shape{-1, 3, 5}));
  const LayerForward forward = repeat.forward(x);
  std::vector<Tensor> no_weights;
  const Tensor d_output({2, 3, 2}, {1, 1, 2, 2, 3, 3, 0, 1, 0, 1, 0, 1});
  EXPECT_EQ(repeat.backward(forward, d_output, no_weights).to_vector(),
            (std::vector<float>{6, 6, 0, 3}));
  EXPECT_EQ(RepeatVector::from_config(repeat.get_config())->get_config(), repeat.get_config());
  EXPECT_EQ(message_of<ValueError>([] { RepeatVector({.n = 0}); }),
            "RepeatVector 'repeat_vector_1': Argument `n` should be a positive integer. Expected "
            "n > 0. Received: n=0.");
  EXPECT_NE(message_of<ValueError>([&] {
              repeat.call(Tensor({2, 2, 2}));
            }).find("rank 2"),
            std::string::npos);
}

}  // namespace
}  // namespace kattn
