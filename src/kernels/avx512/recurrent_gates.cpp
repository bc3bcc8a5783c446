// The recurrent cells' gates for AVX-512F. Compiled with -mavx512f -mavx2 -mfma -mf16c
// (src/CMakeLists.txt); run only where kernels/dispatch.cpp found the instruction set.
#include "kernels/avx512/vec16.hpp"
#include "kernels/recurrent/recurrent_gates_impl.hpp"

namespace kattn::kernels {

void lstm_gates_avx512(const GateRows& rows) noexcept { RecurrentGates<avx512::Vec16>::lstm(rows); }
void gru_gates_avx512(const GateRows& rows) noexcept { RecurrentGates<avx512::Vec16>::gru(rows); }
void simple_rnn_gates_avx512(const GateRows& rows) noexcept {
  RecurrentGates<avx512::Vec16>::simple_rnn(rows);
}

}  // namespace kattn::kernels
