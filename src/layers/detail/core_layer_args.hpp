// Config reading and input checks shared by the core layers (Dense, EinsumDense, Embedding,
// Masking, Dropout, Activation).
#pragma once

#include <cstdint>
#include <string_view>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// A Keras argument kattn does not implement (quantization_config, lora_rank, lora_alpha): null
// or absent is accepted, anything else raises NotSupportedError naming it.
void read_unsupported_argument(ConfigReader& reader, std::string_view key);

// Keras's InputSpec(min_ndim=...) check: ValueError unless the input has at least `min_rank`
// axes.
void check_min_rank(ErrorSource source, const Shape& input_shape, int64_t min_rank);

}  // namespace kattn::detail
