// Checks and formatting shared by the argument validation of layers, losses, metrics and
// optimizers.
#pragma once

#include <string>

#include "kattn/core/error.hpp"

namespace kattn::detail {

// A number as Python's repr() writes a float: "0.5", "1.0", "1e-07", "inf", "nan", so messages
// read like Keras's.
std::string python_float(double value);

// `dropout` must lie in [0, 1).
void check_dropout_rate(ErrorSource source, double dropout);

}  // namespace kattn::detail
