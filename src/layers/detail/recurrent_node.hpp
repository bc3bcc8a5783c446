// What the recurrent layers' graph nodes share (RNN's and Bidirectional's call(sequences,
// initial_state=None, mask=None, training=None)): the arguments a node's call gets, with
// Keras's mask rule, and the build_config Keras records.
#pragma once

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/layers/rnn.hpp"

namespace kattn::detail {

// The call arguments of a node: its initial_state tensors, its `mask` argument or else (only
// when it has no initial state: Keras passes a layer the mask of its one tensor argument) the
// sequences' Keras mask, and `training`.
RecurrentCallArgs recurrent_call_args(const ValueArguments& arguments, const RunContext& context,
                                      ErrorSource source);

// The mask Keras before 3.16 passes on to a returned sequence (Layer's previous_mask): the
// node's `mask` when it is a tensor, else the sequences' Keras mask (initial_state or not).
std::optional<Mask> previous_mask(const ValueArguments& arguments, ErrorSource source);
std::optional<KerasTensor> previous_mask(const SymbolicArguments& arguments);

// A symbolic call's checks (float32 sequences and states) and the build_config Keras records:
// {"input_shape": sequences} or, with initial_state, {"shapes_dict": {"sequences_shape",
// "initial_state_shape"}}.
Config recurrent_build_config(const SymbolicArguments& arguments, ErrorSource source);

// The symbolic outputs of `shapes` (float32), the first `masked` of them carrying
// previous_mask(arguments).
std::vector<KerasTensor> recurrent_outputs(std::vector<Shape> shapes, size_t masked,
                                           const SymbolicArguments& arguments);

// `layer` as Keras serializes a nested layer: module, class_name, config, registered_name and,
// once built for `input_shape` (not null), build_config.
Config serialized_layer(const Layer& layer, const Config& input_shape);

}  // namespace kattn::detail
