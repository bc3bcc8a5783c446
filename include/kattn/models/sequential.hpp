// keras.Sequential: a model whose layers are called one after the other on its one input, as
// the Keras documentation writes it:
//
//   kattn::Model model = kattn::Sequential(
//       {.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "tokens"},
//       {kattn::make_layer<kattn::Embedding>({.input_dim = 30, .output_dim = 6, .mask_zero =
//       true}),
//        kattn::make_layer<kattn::GlobalAveragePooling1D>(),
//        kattn::make_layer<kattn::Dense>({.units = 1})},
//       "classifier");
//
// The result is a Model like any other (predict, fit, save_model), built as Keras builds a
// Sequential: each layer called on the previous layer's output, with the same Keras masks (the
// keras.ops nodes a mask needs are recorded as in a functional model). What differs is how it is
// saved: config.json's Sequential form (the layers in order, without names or inbound nodes),
// model.weights.h5 without the InputLayer's group, and summary() without the op nodes and the
// "Connected to" column.
#pragma once

#include <string>
#include <vector>

#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

// keras.Sequential([keras.Input(...), layer, ...], name=...); an empty name is Keras's auto name
// ("sequential", "sequential_1", ...). ValueError when `layers` is empty
// or a layer gives more than one output (a Sequential's layers take and give one tensor).
Model Sequential(const InputArgs& input, const std::vector<SymbolicLayer>& layers,
                 std::string name = "");

}  // namespace kattn
