// Symbolic tensors: what `kattn::Input` and layers called on symbolic tensors give while a
// model is being built (Keras's KerasTensor). They carry a shape (-1 for Keras's None), a
// dtype, the node output they come from (Keras's `_keras_history`) and, when the layer that
// made them computes one, their symbolic Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "kattn/core/tensor.hpp"
#include "kattn/core/value.hpp"

namespace kattn {

struct Node;

class KerasTensor {
 public:
  // A tensor of that spec, not produced by any node yet.
  KerasTensor(Shape shape, DType dtype);

  const Shape& shape() const { return state_->shape; }
  DType dtype() const { return state_->dtype; }
  int64_t rank() const { return static_cast<int64_t>(state_->shape.size()); }

  // The node that produced this tensor and which of its outputs it is; null for a tensor no
  // node produced.
  const std::shared_ptr<Node>& node() const { return state_->node; }
  int64_t tensor_index() const { return state_->tensor_index; }

  // The symbolic Keras mask (bool, the shape without its last axis), if any.
  std::optional<KerasTensor> keras_mask() const;
  void set_keras_mask(std::optional<KerasTensor> mask);

  // The same tensor, as Keras's tensor identity (copies share it).
  bool is(const KerasTensor& other) const { return state_ == other.state_; }
  const void* id() const { return state_.get(); }

  // Records that output `index` of `node` is this tensor (done once by the graph builder).
  void set_history(std::shared_ptr<Node> node, int64_t index);

 private:
  struct State {
    Shape shape;
    DType dtype;
    std::shared_ptr<Node> node;
    int64_t tensor_index = 0;
    std::shared_ptr<State> keras_mask;
  };
  explicit KerasTensor(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_ptr<State> state_;
};

// Python's operators on KerasTensors, recorded as Keras records them: keras.ops nodes Add,
// Subtract, Multiply, TrueDivide and Negative (config.json module "keras.src.ops.numpy"), a
// number as a literal argument; operands broadcast as in numpy. `x = x + res` builds a residual.
KerasTensor operator+(const KerasTensor& a, const KerasTensor& b);
KerasTensor operator+(const KerasTensor& a, double b);
KerasTensor operator+(double a, const KerasTensor& b);
KerasTensor operator-(const KerasTensor& a, const KerasTensor& b);
KerasTensor operator-(const KerasTensor& a, double b);
KerasTensor operator-(double a, const KerasTensor& b);
KerasTensor operator*(const KerasTensor& a, const KerasTensor& b);
KerasTensor operator*(const KerasTensor& a, double b);
KerasTensor operator*(double a, const KerasTensor& b);
KerasTensor operator/(const KerasTensor& a, const KerasTensor& b);
KerasTensor operator/(const KerasTensor& a, double b);
KerasTensor operator/(double a, const KerasTensor& b);
KerasTensor operator-(const KerasTensor& a);
// `tokens != 0`: a NotEqual node (a bool tensor), the mask a Keras user writes by hand.
KerasTensor operator!=(const KerasTensor& a, int b);
KerasTensor operator!=(const KerasTensor& a, double b);

}  // namespace kattn
