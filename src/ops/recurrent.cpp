#include "kattn/ops/recurrent.hpp"

#include <utility>

#include "kattn/ops/recurrent_backward.hpp"
#include "kernels/dispatch.hpp"
#include "ops/einsum_dense.hpp"
#include "ops/recurrent_packed.hpp"
#include "ops/recurrent_step.hpp"

namespace kattn::ops {

namespace detail {

std::string describe_recurrent(const RecurrentSpec& spec, const Tensor& sequences, int64_t units) {
  const char* cell = spec.cell == RecurrentCell::kLSTM  ? "LSTM"
                     : spec.cell == RecurrentCell::kGRU ? "GRU"
                                                        : "SimpleRNN";
  return std::string(cell) + " " + std::to_string(sequences.dim(0)) + "x" +
         std::to_string(sequences.dim(1)) + "x" + std::to_string(sequences.dim(2)) +
         " units=" + std::to_string(units);
}

}  // namespace detail

int64_t recurrent_gates(RecurrentCell cell) {
  switch (cell) {
    case RecurrentCell::kLSTM:
      return 4;
    case RecurrentCell::kGRU:
      return 3;
    case RecurrentCell::kSimpleRNN:
      break;
  }
  return 1;
}

int64_t recurrent_states(RecurrentCell cell) { return cell == RecurrentCell::kLSTM ? 2 : 1; }

std::shared_ptr<const PackedRecurrentWeights> pack_recurrent_weights(
    const RecurrentWeights& weights) {
  if (!kernels::packed_gemm_available()) return nullptr;
  const Tensor recurrent_kernel = weights.recurrent_kernel.contiguous();
  return std::make_shared<const PackedRecurrentWeights>(
      pack_kernel(weights.kernel, 1),
      kernels::PackedMatrix(recurrent_kernel.data(), recurrent_kernel.dim(0),
                            recurrent_kernel.dim(1)));
}

RecurrentResult recurrent(const Tensor& sequences, const RecurrentWeights& weights,
                          const RecurrentSpec& spec, const Mask* mask,
                          const std::vector<Tensor>& initial_state,
                          const PackedRecurrentWeights* packed) {
  if (packed != nullptr && packed_loop_supported(spec)) {
    return recurrent_packed(sequences, weights, spec, mask, initial_state, *packed);
  }
  kernels::report_kernel("recurrent", kernels::Isa::kReference, 1, [&] {
    return detail::describe_recurrent(spec, sequences, weights.recurrent_kernel.dim(0));
  });
  // The plain loop: the training call's, without its tape.
  RecurrentTape<float> tape =
      recurrent_forward<float>(sequences, {weights.kernel, weights.recurrent_kernel, weights.bias},
                               spec, mask, initial_state);
  return {std::move(tape.output), std::move(tape.states)};
}

}  // namespace kattn::ops
