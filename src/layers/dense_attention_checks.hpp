// The argument checks of Attention and AdditiveAttention, run before any arithmetic. Keras's
// Attention._validate_inputs checks only the list lengths and leaves shape errors to the ops;
// here each shape rule gets its own message naming the offending argument.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/argument_checks.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// Inputs [query, value] or [query, value, key]:
// - two or three of them (Keras: "accepts inputs list of length 2 or 3");
// - each of rank >= 3, (batch..., T, dim);
// - value and key with query's leading (batch) axes;
// - key (value when there is no key) with query's feature dimension;
// - key as long as value.
void check_dense_attention_shapes(ErrorSource source, const std::vector<Shape>& shapes);

// query_mask must have shape query.shape[:-1], value_mask value.shape[:-1].
void check_dense_attention_masks(ErrorSource source, const Shape& query, const Shape& value,
                                 const std::optional<Mask>& query_mask,
                                 const std::optional<Mask>& value_mask);

}  // namespace kattn::detail
