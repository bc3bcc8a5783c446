// The recurrent layers' training call and backward (ops::recurrent_forward / _backward): the
// backward against central finite differences of the forward, in double, over every cell and
// option (masks with a fully masked row, go_backwards, unroll, zero_output_for_mask, initial
// and final states, activations); the float32 training call against the inference loop; and
// the float32 backward against the double one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/ops/recurrent.hpp"
#include "kattn/ops/recurrent_backward.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::RecurrentCell;
using ops::RecurrentSpec;
using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;

struct Problem {
  std::string name;
  RecurrentSpec spec;
  bool bias = true;
  bool masked = false;
  bool initial_state = false;
  bool state_gradients = false;
  // Dropout masks: none (0), one for every gate block (1), or one per block (G).
  int dropout_masks = 0;
  bool recurrent_dropout = false;
};

RecurrentSpec spec_of(RecurrentCell cell, const char* activation = "tanh",
                      const char* recurrent_activation = "sigmoid") {
  return {.cell = cell,
          .activation = ActivationFunction(activation),
          .recurrent_activation = ActivationFunction(recurrent_activation)};
}

std::vector<Problem> problems() {
  std::vector<Problem> out;
  for (const auto& [name, cell, reset_after] :
       {std::tuple{"lstm", RecurrentCell::kLSTM, true},
        std::tuple{"gru_reset_after", RecurrentCell::kGRU, true},
        std::tuple{"gru_reset_before", RecurrentCell::kGRU, false},
        std::tuple{"simple_rnn", RecurrentCell::kSimpleRNN, true}}) {
    RecurrentSpec spec = spec_of(cell);
    spec.reset_after = reset_after;
    const std::string base = name;
    out.push_back({.name = base + "_last", .spec = spec});
    RecurrentSpec sequences = spec;
    sequences.return_sequences = true;
    out.push_back({.name = base + "_sequences_masked_states",
                   .spec = sequences,
                   .masked = true,
                   .initial_state = true,
                   .state_gradients = true});
    RecurrentSpec backwards = sequences;
    backwards.go_backwards = true;
    backwards.zero_output_for_mask = true;
    out.push_back({.name = base + "_backwards_zero_output", .spec = backwards, .masked = true});
    RecurrentSpec unrolled = sequences;
    unrolled.unroll = true;
    out.push_back({.name = base + "_unrolled_masked", .spec = unrolled, .masked = true});
    RecurrentSpec last_masked = spec;
    last_masked.go_backwards = true;
    out.push_back({.name = base + "_no_bias_masked_last",
                   .spec = last_masked,
                   .bias = false,
                   .masked = true,
                   .state_gradients = true});
    out.push_back(
        {.name = base + "_input_dropout", .spec = sequences, .masked = true, .dropout_masks = 1});
    out.push_back({.name = base + "_input_and_recurrent_dropout_per_gate",
                   .spec = sequences,
                   .initial_state = true,
                   .dropout_masks = static_cast<int>(ops::recurrent_gates(cell)),
                   .recurrent_dropout = true});
  }
  RecurrentSpec lstm = spec_of(RecurrentCell::kLSTM, "softsign", "silu");
  lstm.return_sequences = true;
  out.push_back({.name = "lstm_softsign_silu", .spec = lstm, .masked = true});
  RecurrentSpec gru = spec_of(RecurrentCell::kGRU, "gelu", "softsign");
  out.push_back({.name = "gru_gelu_softsign", .spec = gru, .initial_state = true});
  return out;
}

constexpr int64_t kBatch = 3, kSteps = 4, kFeatures = 3, kUnits = 2;

// The inputs of one problem, in Real.
template <typename Real>
struct Inputs {
  BasicTensor<Real> sequences, kernel, recurrent_kernel, bias, d_output;
  std::vector<BasicTensor<Real>> initial_state, d_states;
  std::optional<Mask> mask;
  ops::RecurrentDropoutMasks<Real> dropout;
};

// A dropout mask: 0 or 1 / (1 - 0.3).
template <typename Real>
BasicTensor<Real> dropout_mask(Shape shape, uint64_t seed) {
  const Mask keep = random_mask(std::move(shape), seed, 0.7);
  BasicTensor<Real> mask(keep.shape());
  for (int64_t i = 0; i < mask.size(); ++i) {
    mask.data()[i] = keep.data()[i] ? static_cast<Real>(1.0 / 0.7) : Real(0);
  }
  return mask;
}

template <typename Real>
Inputs<Real> inputs_of(const Problem& p) {
  const int64_t gates = ops::recurrent_gates(p.spec.cell);
  const int64_t width = gates * kUnits;
  Inputs<Real> in;
  in.sequences = random_normal<Real>({kBatch, kSteps, kFeatures}, 1);
  in.kernel = random_normal<Real>({kFeatures, width}, 2);
  in.recurrent_kernel = random_normal<Real>({kUnits, width}, 3);
  const bool two_biases = p.spec.cell == RecurrentCell::kGRU && p.spec.reset_after;
  in.bias = random_normal<Real>(two_biases ? Shape{2, width} : Shape{width}, 4);
  in.d_output = random_normal<Real>(
      p.spec.return_sequences ? Shape{kBatch, kSteps, kUnits} : Shape{kBatch, kUnits}, 5);
  for (int64_t k = 0; k < ops::recurrent_states(p.spec.cell); ++k) {
    if (p.initial_state) {
      in.initial_state.push_back(
          random_normal<Real>({kBatch, kUnits}, 6 + static_cast<uint64_t>(k)));
    }
    if (p.state_gradients) {
      in.d_states.push_back(random_normal<Real>({kBatch, kUnits}, 8 + static_cast<uint64_t>(k)));
    }
  }
  for (int g = 0; g < p.dropout_masks; ++g) {
    const auto seed = static_cast<uint64_t>(30 + g);
    in.dropout.inputs.push_back(dropout_mask<Real>({kBatch, kFeatures}, seed));
    if (p.recurrent_dropout) {
      in.dropout.recurrent.push_back(dropout_mask<Real>({kBatch, kUnits}, seed + 10));
    }
  }
  if (p.masked) {
    Mask mask = random_mask({kBatch, kSteps}, 10, 0.6);
    for (int64_t t = 0; t < kSteps; ++t) mask(2, t) = false;  // a fully padded row
    mask(0, 0) = true;
    mask(0, 1) = false;  // an interior masked step
    in.mask = mask;
  }
  return in;
}

template <typename Real>
ops::RecurrentTape<Real> run(const Problem& p, const Inputs<Real>& in) {
  return ops::recurrent_forward<Real>(
      in.sequences, {in.kernel, in.recurrent_kernel, p.bias ? &in.bias : nullptr}, p.spec,
      in.mask ? &*in.mask : nullptr, in.initial_state, in.dropout);
}

template <typename Real>
ops::RecurrentGradients<Real> gradients(const Problem& p, const Inputs<Real>& in) {
  const ops::RecurrentTape<Real> tape = run(p, in);
  return ops::recurrent_backward<Real>(
      in.sequences, {in.kernel, in.recurrent_kernel, p.bias ? &in.bias : nullptr}, p.spec,
      in.mask ? &*in.mask : nullptr, tape, in.d_output, in.d_states, in.dropout);
}

TEST(RecurrentBackward, AgreesWithFiniteDifferencesInDouble) {
  for (const Problem& p : problems()) {
    SCOPED_TRACE(p.name);
    Inputs<double> in = inputs_of<double>(p);
    const ops::RecurrentGradients<double> grads = gradients(p, in);
    const auto loss = [&] {
      const ops::RecurrentTape<double> tape = run(p, in);
      double sum = dot_sum(tape.output, in.d_output);
      for (size_t k = 0; k < in.d_states.size(); ++k)
        sum += dot_sum(tape.states[k], in.d_states[k]);
      return sum;
    };
    constexpr double kStep = 1e-6, kTol = 1e-6;
    EXPECT_TRUE(
        gradients_agree(grads.sequences, numeric_gradient(in.sequences, loss, kStep), kTol, kTol));
    EXPECT_TRUE(
        gradients_agree(grads.kernel, numeric_gradient(in.kernel, loss, kStep), kTol, kTol));
    EXPECT_TRUE(gradients_agree(grads.recurrent_kernel,
                                numeric_gradient(in.recurrent_kernel, loss, kStep), kTol, kTol));
    if (p.bias) {
      EXPECT_TRUE(gradients_agree(grads.bias, numeric_gradient(in.bias, loss, kStep), kTol, kTol));
    } else {
      EXPECT_EQ(grads.bias.rank(), 0);
    }
    ASSERT_EQ(grads.initial_state.size(), static_cast<size_t>(ops::recurrent_states(p.spec.cell)));
    for (size_t k = 0; k < in.initial_state.size(); ++k) {
      EXPECT_TRUE(gradients_agree(grads.initial_state[k],
                                  numeric_gradient(in.initial_state[k], loss, kStep), kTol, kTol));
    }
  }
}

// The training call computes what the inference loop computes (without dropout).
TEST(RecurrentBackward, TrainingCallMatchesInference) {
  for (const Problem& p : problems()) {
    if (p.dropout_masks > 0) continue;
    SCOPED_TRACE(p.name);
    const Inputs<float> in = inputs_of<float>(p);
    const ops::RecurrentTape<float> tape = run(p, in);
    const ops::RecurrentResult result =
        ops::recurrent(in.sequences, {in.kernel, in.recurrent_kernel, p.bias ? &in.bias : nullptr},
                       p.spec, in.mask ? &*in.mask : nullptr, in.initial_state);
    EXPECT_TRUE(gradients_agree(tape.output, result.output, 1e-6, 1e-6));
    ASSERT_EQ(tape.states.size(), result.states.size());
    for (size_t k = 0; k < tape.states.size(); ++k) {
      EXPECT_TRUE(gradients_agree(tape.states[k], result.states[k], 1e-6, 1e-6));
    }
  }
}

TEST(RecurrentBackward, FloatAgreesWithDouble) {
  for (const Problem& p : problems()) {
    SCOPED_TRACE(p.name);
    const ops::RecurrentGradients<float> f = gradients(p, inputs_of<float>(p));
    const ops::RecurrentGradients<double> d = gradients(p, inputs_of<double>(p));
    EXPECT_TRUE(gradients_agree(f.sequences, d.sequences.cast<float>(), 1e-4, 1e-4));
    EXPECT_TRUE(gradients_agree(f.kernel, d.kernel.cast<float>(), 1e-4, 1e-4));
    EXPECT_TRUE(gradients_agree(f.recurrent_kernel, d.recurrent_kernel.cast<float>(), 1e-4, 1e-4));
    for (size_t k = 0; k < f.initial_state.size(); ++k) {
      EXPECT_TRUE(
          gradients_agree(f.initial_state[k], d.initial_state[k].cast<float>(), 1e-4, 1e-4));
    }
  }
}

}  // namespace
}  // namespace kattn
