// The recurrent cells' gates for one step of a block of batch rows, vectorized: what follows the
// step's recurrent product in the packed recurrent loop (ops/recurrent.cpp). Keras's default
// activations only: tanh, and sigmoid as recurrent activation (exp and tanh within a few ulp,
// kernels/flash/vec_exp.hpp and vec_tanh.hpp); the arithmetic order is the plain loop's.
//
//   LSTM (i, f, c, o):    z = (x + r) + bias; c' = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_c),
//                         h' = sigmoid(z_o) * tanh(c')
//   GRU, reset_after:     r~ = r + bias (the recurrent bias); z = sigmoid(x_z + r~_z),
//                         g = sigmoid(x_r + r~_r), n = tanh(x_h + g * r~_h),
//                         h' = z * h + (1 - z) * n
//   SimpleRNN:            h' = tanh(x + r)
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/gemm/packed_gemm.hpp"

namespace kattn::kernels {

struct GateRows {
  int64_t rows = 0;
  int64_t units = 0;
  const float* x = nullptr;     // the step's input products: row b at x + b * x_stride, gate blocks
  int64_t x_stride = 0;         // `units` apart
  const float* r = nullptr;     // the recurrent products (rows, G * units)
  const float* bias = nullptr;  // LSTM: the bias (4 * units); GRU: the recurrent bias; or null
  const float* h = nullptr;     // GRU: the previous h (rows, units)
  const float* c = nullptr;     // LSTM: the previous carry (rows, units)
  float* c_next = nullptr;      // LSTM: the new carry (rows, units)
  float* h_next = nullptr;      // (rows, units)
};

void lstm_gates_avx2(const GateRows& rows) noexcept;
void gru_gates_avx2(const GateRows& rows) noexcept;
void simple_rnn_gates_avx2(const GateRows& rows) noexcept;
void lstm_gates_avx512(const GateRows& rows) noexcept;
void gru_gates_avx512(const GateRows& rows) noexcept;
void simple_rnn_gates_avx512(const GateRows& rows) noexcept;

// The active instruction set's kernels of the packed recurrent loop, resolved on the calling
// thread (a ScopedIsa there applies): the packed product's item kernel and the gates.
struct RecurrentKernels {
  void (*gemm_item)(const PackedGemmParams&, int64_t, float*) noexcept;
  void (*lstm)(const GateRows&) noexcept;
  void (*gru)(const GateRows&) noexcept;
  void (*simple_rnn)(const GateRows&) noexcept;
};

// nullopt where the active instruction set has none (reference, portable).
std::optional<RecurrentKernels> recurrent_kernels();

}  // namespace kattn::kernels
