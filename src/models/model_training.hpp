// One node of a model's training run: its concrete arguments (owned, as BoundArguments points
// into them) and what its operation's forward() kept for backward().
#pragma once

#include <memory>

#include "kattn/core/node_arguments.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

struct NodeRun {
  std::shared_ptr<Node> node;
  std::unique_ptr<NodeArguments<ValuePtr>> arguments;
  std::unique_ptr<ValueArguments> bound;  // over *arguments
  OperationForward forward;
};

}  // namespace kattn::detail
