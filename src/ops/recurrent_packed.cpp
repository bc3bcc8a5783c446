#include "ops/recurrent_packed.hpp"

#include <algorithm>

#include "kattn/core/context.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/recurrent/recurrent_gates.hpp"
#include "ops/recurrent_step.hpp"
#include "threads/parallel_for.hpp"

namespace kattn::ops {

bool packed_loop_supported(const RecurrentSpec& spec) {
  if (!kernels::recurrent_kernels()) return false;
  const bool tanh = spec.activation == ActivationFunction("tanh");
  const bool sigmoid = spec.recurrent_activation == ActivationFunction("sigmoid");
  switch (spec.cell) {
    case RecurrentCell::kLSTM:
      return tanh && sigmoid;
    case RecurrentCell::kGRU:
      return tanh && sigmoid && spec.reset_after;
    case RecurrentCell::kSimpleRNN:
      return tanh;
  }
  return false;
}

RecurrentResult recurrent_packed(const Tensor& sequences, const RecurrentWeights& weights,
                                 const RecurrentSpec& spec, const Mask* mask,
                                 const std::vector<Tensor>& initial_state,
                                 const PackedRecurrentWeights& packed) {
  const kernels::RecurrentKernels run = *kernels::recurrent_kernels();
  const int64_t batch = sequences.dim(0), steps = sequences.dim(1);
  const int64_t units = weights.recurrent_kernel.dim(0);
  const int64_t width = recurrent_gates(spec.cell) * units;
  const auto state_count = recurrent_states(spec.cell);

  // Biases as the plain loop adds them: GRU's input bias and SimpleRNN's bias to the input
  // products, LSTM's after them in the gates, GRU's recurrent bias to the recurrent products.
  const Tensor bias = weights.bias != nullptr ? weights.bias->contiguous() : Tensor();
  const bool lstm = spec.cell == RecurrentCell::kLSTM;
  const bool gru = spec.cell == RecurrentCell::kGRU;
  const Tensor input_bias =
      gru && weights.bias != nullptr ? bias.slice(0, 0, 1).reshape({width}) : bias;
  const Tensor x =
      einsum_dense(sequences, 1, weights.kernel,
                   !lstm && weights.bias != nullptr ? &input_bias : nullptr, packed.kernel());
  const float* gate_bias = weights.bias == nullptr ? nullptr
                           : lstm                  ? bias.data()
                           : gru                   ? bias.data() + width
                                                   : nullptr;
  void (*gates)(const kernels::GateRows&) noexcept = lstm  ? run.lstm
                                                     : gru ? run.gru
                                                           : run.simple_rnn;

  std::vector<Tensor> state;
  for (int64_t k = 0; k < state_count; ++k) {
    state.push_back(initial_state.empty()
                        ? Tensor({batch, units})
                        : initial_state[static_cast<size_t>(k)].contiguous().clone());
  }
  const Mask keep = mask != nullptr ? mask->contiguous() : Mask();
  Tensor last({batch, units});
  Tensor sequence = spec.return_sequences ? Tensor({batch, steps, units}) : Tensor();

  // One block of rows per thread, each running every step of its rows.
  const int64_t threads = std::max<int64_t>(1, std::min(num_threads(), batch));
  const int64_t chunk = (batch + threads - 1) / threads;
  const int64_t blocks = batch == 0 ? 0 : (batch + chunk - 1) / chunk;
  kernels::report_kernel("recurrent", kernels::active_isa(), threads,
                         [&] { return detail::describe_recurrent(spec, sequences, units); });
  kattn::detail::parallel_for(blocks, threads, [&](int64_t block) {
    const int64_t first = block * chunk, rows = std::min(chunk, batch - first);
    std::vector<float> recurrent(static_cast<size_t>(rows * width));
    std::vector<float> h_next(static_cast<size_t>(rows * units));
    std::vector<float> c_next(static_cast<size_t>(lstm ? rows * units : 0));
    std::vector<float> workspace(kernels::kPackedGemmWorkspace);
    float* h = state[0].data() + first * units;
    float* c = lstm ? state[1].data() + first * units : nullptr;
    const kernels::PackedGemmParams product{.m = rows,
                                            .a = h,
                                            .lda = units,
                                            .b = &packed.recurrent_kernel(),
                                            .bias = nullptr,
                                            .c = recurrent.data(),
                                            .ldc = width};
    const int64_t items = kernels::packed_gemm_items(product);
    for (int64_t p = 0; p < steps; ++p) {
      const int64_t t = spec.go_backwards ? steps - 1 - p : p;
      for (int64_t item = 0; item < items; ++item) run.gemm_item(product, item, workspace.data());
      gates({.rows = rows,
             .units = units,
             .x = x.data() + (first * steps + t) * width,
             .x_stride = steps * width,
             .r = recurrent.data(),
             .bias = gate_bias,
             .h = h,
             .c = c,
             .c_next = c_next.data(),
             .h_next = h_next.data()});
      for (int64_t b = 0; b < rows; ++b) {
        const float* next_rows[2] = {h_next.data() + b * units,
                                     lstm ? c_next.data() + b * units : nullptr};
        float* state_rows[2] = {h + b * units, lstm ? c + b * units : nullptr};
        const bool kept = mask == nullptr || keep.data()[(first + b) * steps + t];
        detail::finish_step_row(spec, units, kept, state_count, next_rows, state_rows,
                                last.data() + (first + b) * units);
        if (spec.return_sequences) {
          std::copy_n(last.data() + (first + b) * units, units,
                      sequence.data() + ((first + b) * steps + p) * units);
        }
      }
    }
  });
  return {spec.return_sequences ? std::move(sequence) : std::move(last), std::move(state)};
}

}  // namespace kattn::ops
