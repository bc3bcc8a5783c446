#include "kattn/ops/recurrent.hpp"

#include <cblas.h>

#include <algorithm>
#include <utility>

#include "kernels/dispatch.hpp"
#include "ops/einsum_dense.hpp"
#include "ops/recurrent_packed.hpp"
#include "ops/recurrent_step.hpp"

namespace kattn::ops {

namespace {

// The first n columns of out (B, ldo) = h (B, units) @ the n columns of U (units, ldu) from u.
void times_recurrent(const Tensor& h, const float* u, int64_t ldu, int64_t n, float* out,
                     int64_t ldo) {
  const auto batch = static_cast<blasint>(h.dim(0));
  const auto units = static_cast<blasint>(h.dim(1));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, static_cast<blasint>(n), units,
              1.0f, h.data(), units, u, static_cast<blasint>(ldu), 0.0f, out,
              static_cast<blasint>(ldo));
}

// One step's inputs and buffers: the input product x of the step's time (row b at
// x + b * x_stride, gate g's block at + g * units) and the recurrent product r (B, G * units).
struct StepBuffers {
  const float* x = nullptr;
  int64_t x_stride = 0;
  Tensor r;                  // (B, G * units)
  std::vector<Tensor> gate;  // G tensors (B, units)
  Tensor extra;              // (B, units): act(c') (LSTM), r * h (GRU before), ...
};

// gate(b, j) = (x_g + r_g)(b, j) (+ bias_g[j] after, when not null) for block g.
void sum_block(Tensor& gate, const StepBuffers& s, int64_t g, const float* bias) {
  const int64_t batch = gate.dim(0), units = gate.dim(1), width = s.r.dim(1);
  for (int64_t b = 0; b < batch; ++b) {
    const float* x = s.x + b * s.x_stride + g * units;
    const float* r = s.r.data() + b * width + g * units;
    float* out = gate.data() + b * units;
    for (int64_t j = 0; j < units; ++j) out[j] = x[j] + r[j];
    if (bias != nullptr) {
      for (int64_t j = 0; j < units; ++j) out[j] += bias[g * units + j];
    }
  }
}

void lstm_step(const RecurrentSpec& spec, const RecurrentWeights& w, const float* bias,
               const std::vector<Tensor>& state, std::vector<Tensor>& next, StepBuffers& s) {
  const Tensor& h = state[0];
  const int64_t units = h.dim(1);
  times_recurrent(h, w.recurrent_kernel.data(), 4 * units, 4 * units, s.r.data(), 4 * units);
  for (int64_t g = 0; g < 4; ++g) {
    sum_block(s.gate[static_cast<size_t>(g)], s, g, bias);
    (g == 2 ? spec.activation : spec.recurrent_activation)(s.gate[static_cast<size_t>(g)]);
  }
  const float* i = s.gate[0].data();
  const float* f = s.gate[1].data();
  const float* candidate = s.gate[2].data();
  const float* o = s.gate[3].data();
  const float* c = state[1].data();
  float* c_next = next[1].data();
  const int64_t n = h.size();
  for (int64_t k = 0; k < n; ++k) c_next[k] = f[k] * c[k] + i[k] * candidate[k];
  std::copy(c_next, c_next + n, s.extra.data());
  spec.activation(s.extra);
  float* h_next = next[0].data();
  for (int64_t k = 0; k < n; ++k) h_next[k] = o[k] * s.extra.data()[k];
}

void gru_step(const RecurrentSpec& spec, const RecurrentWeights& w, const float* recurrent_bias,
              const std::vector<Tensor>& state, std::vector<Tensor>& next, StepBuffers& s) {
  const Tensor& h = state[0];
  const int64_t batch = h.dim(0), units = h.dim(1), n = h.size();
  const float* u = w.recurrent_kernel.data();
  // reset_after: every block of h U (+ the recurrent bias); before: the z and r blocks only.
  times_recurrent(h, u, 3 * units, spec.reset_after ? 3 * units : 2 * units, s.r.data(), 3 * units);
  if (spec.reset_after && recurrent_bias != nullptr) {
    float* r = s.r.data();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < 3 * units; ++j) r[b * 3 * units + j] += recurrent_bias[j];
    }
  }
  Tensor& z = s.gate[0];
  Tensor& r = s.gate[1];
  Tensor& candidate = s.gate[2];
  sum_block(z, s, 0, nullptr);
  sum_block(r, s, 1, nullptr);
  spec.recurrent_activation(z);
  spec.recurrent_activation(r);
  if (spec.reset_after) {
    // n = act(x_h + r * (h U_h + b_h))
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < units; ++j) {
        candidate(b, j) = s.x[b * s.x_stride + 2 * units + j] +
                          r(b, j) * s.r.data()[b * 3 * units + 2 * units + j];
      }
    }
  } else {
    // n = act(x_h + (r * h) U_h)
    for (int64_t k = 0; k < n; ++k) s.extra.data()[k] = r.data()[k] * h.data()[k];
    times_recurrent(s.extra, u + 2 * units, 3 * units, units, candidate.data(), units);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < units; ++j) {
        candidate(b, j) = s.x[b * s.x_stride + 2 * units + j] + candidate(b, j);
      }
    }
  }
  spec.activation(candidate);
  float* h_next = next[0].data();
  for (int64_t k = 0; k < n; ++k) {
    h_next[k] = z.data()[k] * h.data()[k] + (1.0f - z.data()[k]) * candidate.data()[k];
  }
}

void simple_rnn_step(const RecurrentSpec& spec, const RecurrentWeights& w,
                     const std::vector<Tensor>& state, std::vector<Tensor>& next, StepBuffers& s) {
  const Tensor& h = state[0];
  const int64_t units = h.dim(1);
  times_recurrent(h, w.recurrent_kernel.data(), units, units, s.r.data(), units);
  sum_block(next[0], s, 0, nullptr);
  spec.activation(next[0]);
}

}  // namespace

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
  const int64_t batch = sequences.dim(0), steps = sequences.dim(1);
  const int64_t units = weights.recurrent_kernel.dim(0);
  const int64_t gates = recurrent_gates(spec.cell);
  const int64_t width = gates * units;

  // The input products of every step at once, with the bias where the cell adds it to them
  // first (GRU: the input bias; SimpleRNN: the bias); LSTM adds its bias after h U.
  const Tensor bias = weights.bias != nullptr ? weights.bias->contiguous() : Tensor();
  const bool gru_two_biases = spec.cell == RecurrentCell::kGRU && spec.reset_after;
  const Tensor input_bias =
      gru_two_biases && weights.bias != nullptr ? bias.slice(0, 0, 1).reshape({width}) : bias;
  const bool bias_first = spec.cell != RecurrentCell::kLSTM && weights.bias != nullptr;
  const Tensor x = einsum_dense(sequences, 1, weights.kernel, bias_first ? &input_bias : nullptr);

  std::vector<Tensor> state, next;
  for (int64_t k = 0; k < recurrent_states(spec.cell); ++k) {
    state.push_back(initial_state.empty() ? Tensor({batch, units})
                                          : initial_state[static_cast<size_t>(k)].clone());
    next.emplace_back(Shape{batch, units});
  }
  StepBuffers buffers;
  buffers.x_stride = steps * width;
  buffers.r = Tensor({batch, width});
  for (int64_t g = 0; g < gates; ++g) buffers.gate.emplace_back(Shape{batch, units});
  buffers.extra = Tensor({batch, units});
  const float* lstm_bias =
      spec.cell == RecurrentCell::kLSTM && weights.bias != nullptr ? bias.data() : nullptr;
  const float* recurrent_bias =
      gru_two_biases && weights.bias != nullptr ? bias.data() + width : nullptr;
  const Mask keep = mask != nullptr ? mask->contiguous() : Mask();

  Tensor last({batch, units});  // the latest step's output
  Tensor sequence = spec.return_sequences ? Tensor({batch, steps, units}) : Tensor();
  for (int64_t p = 0; p < steps; ++p) {
    const int64_t t = spec.go_backwards ? steps - 1 - p : p;
    buffers.x = x.data() + t * width;
    switch (spec.cell) {
      case RecurrentCell::kLSTM:
        lstm_step(spec, weights, lstm_bias, state, next, buffers);
        break;
      case RecurrentCell::kGRU:
        gru_step(spec, weights, recurrent_bias, state, next, buffers);
        break;
      case RecurrentCell::kSimpleRNN:
        simple_rnn_step(spec, weights, state, next, buffers);
        break;
    }
    for (int64_t b = 0; b < batch; ++b) {
      const float* next_rows[2] = {next[0].data() + b * units,
                                   next.size() > 1 ? next[1].data() + b * units : nullptr};
      float* state_rows[2] = {state[0].data() + b * units,
                              state.size() > 1 ? state[1].data() + b * units : nullptr};
      detail::finish_step_row(spec, units, mask == nullptr || keep.data()[b * steps + t],
                              static_cast<int64_t>(state.size()), next_rows, state_rows,
                              last.data() + b * units);
    }
    if (spec.return_sequences) {
      for (int64_t b = 0; b < batch; ++b) {
        std::copy_n(last.data() + b * units, units, sequence.data() + (b * steps + p) * units);
      }
    }
  }
  return {spec.return_sequences ? std::move(sequence) : std::move(last), std::move(state)};
}

}  // namespace kattn::ops
