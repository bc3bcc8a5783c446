// The backward pass of a functional model's training run.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "kattn/core/layer.hpp"
#include "models/model_training.hpp"

namespace kattn::detail {

// Backpropagates `output_gradients` (the loss's gradient with respect to node output values:
// the model's outputs, and any value an activity regularizer penalises; entries for one value
// add) through `runs` (a training run's nodes, in execution order) and adds each layer's weight
// gradients into weight_gradients[layer] (created zero on first use). Nodes no gradient
// reaches are skipped; NotSupportedError from an operation the gradient reaches that has no
// backward pass. Returns the gradients no node took: those of the values the run started from
// (the model's inputs), keyed by value object.
std::map<const ModelValue*, Tensor> backward_through(
    const std::vector<NodeRun>& runs,
    const std::vector<std::pair<ValuePtr, Tensor>>& output_gradients,
    std::map<const Layer*, std::vector<Tensor>>& weight_gradients);

}  // namespace kattn::detail
