// Where each layer of a model lives in model.weights.h5.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/operation.hpp"

namespace kattn::detail {

struct LayerGroup {
  std::shared_ptr<Operation> operation;
  std::string path;  // "layers/dense_1"
};

// One group per layer of `operations` (keras.ops functions have none), in order; InputLayers
// too unless `sequential` (a Sequential's weights file has no group for its input).
std::vector<LayerGroup> layer_groups(const std::vector<std::shared_ptr<Operation>>& operations,
                                     bool sequential);

}  // namespace kattn::detail
