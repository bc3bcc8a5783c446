// The recurrent cells' gates for AVX2 + FMA. Compiled with -mavx2 -mfma -mf16c
// (src/CMakeLists.txt); run only where kernels/dispatch.cpp found the instruction set.
#include "kernels/avx2/vec8.hpp"
#include "kernels/recurrent/recurrent_gates_impl.hpp"

namespace kattn::kernels {

void lstm_gates_avx2(const GateRows& rows) noexcept { RecurrentGates<avx2::Vec8>::lstm(rows); }
void gru_gates_avx2(const GateRows& rows) noexcept { RecurrentGates<avx2::Vec8>::gru(rows); }
void simple_rnn_gates_avx2(const GateRows& rows) noexcept {
  RecurrentGates<avx2::Vec8>::simple_rnn(rows);
}

}  // namespace kattn::kernels
