// What both recurrent loops (the plain one of ops/recurrent_backward.cpp, the packed one of
// ops/recurrent_packed.cpp) share:
// Keras's mask rules for a row's states and output after a step, and their kernel reports.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "kattn/ops/recurrent.hpp"

namespace kattn::ops::detail {

// A kept row takes the step's states (`next`, `count` of them) and outputs h'; a masked row
// keeps its states and outputs the previous h, or zeros (zero_output_for_mask), or unrolled
// leaves `out` holding the previous step's output.
template <typename Real>
void finish_step_row(const RecurrentSpec& spec, int64_t units, bool kept, int64_t count,
                     const Real* const* next, Real* const* state, Real* out) {
  if (kept) {
    for (int64_t k = 0; k < count; ++k) std::copy_n(next[k], units, state[k]);
    std::copy_n(state[0], units, out);
  } else if (!spec.unroll) {
    if (spec.zero_output_for_mask) {
      std::fill_n(out, units, Real(0));
    } else {
      std::copy_n(state[0], units, out);
    }
  }
}

// "LSTM 32x128x64 units=256" for kernel reports.
std::string describe_recurrent(const RecurrentSpec& spec, const Tensor& sequences, int64_t units);

}  // namespace kattn::ops::detail
