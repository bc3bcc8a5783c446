// The packed recurrent loop (ops/recurrent_packed.cpp) against the plain loop, its
// specification, on every instruction set with the kernels this CPU runs: every cell it takes,
// masks with an interior masked step and a fully padded row, go_backwards, unroll,
// zero_output_for_mask, initial states, units that leave a scalar tail, and batch rows split
// unevenly over threads. Cells and activations it does not take run the plain loop.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/core/context.hpp"
#include "kattn/ops/recurrent.hpp"
#include "kernels/dispatch.hpp"
#include "ops/recurrent_packed.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using ops::RecurrentCell;
using ops::RecurrentSpec;
using testing::random_mask;
using testing::random_normal;

std::vector<kernels::Isa> packed_isas() {
  std::vector<kernels::Isa> isas;
  for (const kernels::Isa isa : {kernels::Isa::kAvx2, kernels::Isa::kAvx512}) {
    if (kernels::cpu_runs(isa)) isas.push_back(isa);
  }
  return isas;
}

struct Problem {
  std::string name;
  RecurrentSpec spec;
  int64_t units = 7;
  bool masked = false;
  bool initial_state = false;
};

RecurrentSpec spec_of(RecurrentCell cell, const char* activation = "tanh") {
  return {.cell = cell,
          .activation = ActivationFunction(activation),
          .recurrent_activation = ActivationFunction("sigmoid")};
}

std::vector<Problem> problems() {
  std::vector<Problem> out;
  for (const auto& [name, cell] :
       {std::pair{"lstm", RecurrentCell::kLSTM}, std::pair{"gru", RecurrentCell::kGRU},
        std::pair{"simple_rnn", RecurrentCell::kSimpleRNN}}) {
    const std::string base = name;
    RecurrentSpec sequences = spec_of(cell);
    sequences.return_sequences = true;
    out.push_back({.name = base + "_last", .spec = spec_of(cell), .units = 40});
    out.push_back({.name = base + "_sequences_masked_states",
                   .spec = sequences,
                   .masked = true,
                   .initial_state = true});
    RecurrentSpec backwards = sequences;
    backwards.go_backwards = true;
    backwards.zero_output_for_mask = true;
    out.push_back({.name = base + "_backwards_zero_output", .spec = backwards, .masked = true});
    RecurrentSpec unrolled = sequences;
    unrolled.unroll = true;
    out.push_back({.name = base + "_unrolled", .spec = unrolled, .units = 17, .masked = true});
  }
  return out;
}

TEST(RecurrentPacked, MatchesThePlainLoop) {
  constexpr int64_t kBatch = 5, kSteps = 6, kFeatures = 9;
  for (const kernels::Isa isa : packed_isas()) {
    SCOPED_TRACE(kernels::isa_name(isa));
    const kernels::ScopedIsa scoped(isa);
    for (const Problem& p : problems()) {
      SCOPED_TRACE(p.name);
      ASSERT_TRUE(ops::packed_loop_supported(p.spec));
      const int64_t width = ops::recurrent_gates(p.spec.cell) * p.units;
      const Tensor x = random_normal({kBatch, kSteps, kFeatures}, 1);
      const Tensor kernel = random_normal({kFeatures, width}, 2);
      const Tensor recurrent_kernel = random_normal({p.units, width}, 3);
      const bool gru = p.spec.cell == RecurrentCell::kGRU;
      const Tensor bias = random_normal(gru ? Shape{2, width} : Shape{width}, 4);
      std::vector<Tensor> initial;
      for (int64_t k = 0; p.initial_state && k < ops::recurrent_states(p.spec.cell); ++k) {
        initial.push_back(random_normal({kBatch, p.units}, 5 + static_cast<uint64_t>(k)));
      }
      Mask mask = random_mask({kBatch, kSteps}, 7, 0.6);
      for (int64_t t = 0; t < kSteps; ++t) mask(4, t) = false;
      const ops::RecurrentWeights weights{kernel, recurrent_kernel, &bias};
      const auto packed = ops::pack_recurrent_weights(weights);
      ASSERT_NE(packed, nullptr);
      const ops::RecurrentResult plain =
          ops::recurrent(x, weights, p.spec, p.masked ? &mask : nullptr, initial);
      for (const int64_t threads : {1, 2, 3}) {
        SCOPED_TRACE(threads);
        const ScopedNumThreads scoped_threads(threads);
        const ops::RecurrentResult fast =
            ops::recurrent(x, weights, p.spec, p.masked ? &mask : nullptr, initial, packed.get());
        EXPECT_TRUE(testing::gradients_agree(fast.output, plain.output, 2e-5, 2e-5));
        ASSERT_EQ(fast.states.size(), plain.states.size());
        for (size_t k = 0; k < fast.states.size(); ++k) {
          EXPECT_TRUE(testing::gradients_agree(fast.states[k], plain.states[k], 2e-5, 2e-5));
        }
      }
    }
  }
}

// What the packed loop does not take runs the plain loop (the same result without `packed`).
TEST(RecurrentPacked, OtherCellsAndActivationsRunThePlainLoop) {
  for (const kernels::Isa isa : packed_isas()) {
    const kernels::ScopedIsa scoped(isa);
    RecurrentSpec reset_before = spec_of(RecurrentCell::kGRU);
    reset_before.reset_after = false;
    EXPECT_FALSE(ops::packed_loop_supported(reset_before));
    EXPECT_FALSE(ops::packed_loop_supported(spec_of(RecurrentCell::kLSTM, "relu")));
    EXPECT_FALSE(ops::packed_loop_supported(spec_of(RecurrentCell::kSimpleRNN, "softsign")));
    const Tensor x = random_normal({2, 3, 4}, 1);
    const Tensor kernel = random_normal({4, 15}, 2), recurrent_kernel = random_normal({5, 15}, 3);
    const Tensor bias = random_normal({15}, 4);
    const ops::RecurrentWeights weights{kernel, recurrent_kernel, &bias};
    const auto packed = ops::pack_recurrent_weights(weights);
    EXPECT_EQ(
        ops::recurrent(x, weights, reset_before, nullptr, {}, packed.get()).output.to_vector(),
        ops::recurrent(x, weights, reset_before, nullptr, {}).output.to_vector());
  }
  // Without the kernels there is nothing to pack.
  const kernels::ScopedIsa reference(kernels::Isa::kReference);
  const Tensor kernel({2, 4}), recurrent_kernel({1, 4});
  EXPECT_EQ(ops::pack_recurrent_weights({kernel, recurrent_kernel, nullptr}), nullptr);
}

}  // namespace
}  // namespace kattn
