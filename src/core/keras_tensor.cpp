#include "kattn/core/keras_tensor.hpp"

namespace kattn {

KerasTensor::KerasTensor(Shape shape, DType dtype)
    : state_(std::make_shared<State>(State{std::move(shape), dtype, nullptr, 0, nullptr})) {}

std::optional<KerasTensor> KerasTensor::keras_mask() const {
  if (!state_->keras_mask) return std::nullopt;
  return KerasTensor(state_->keras_mask);
}

void KerasTensor::set_keras_mask(std::optional<KerasTensor> mask) {
  state_->keras_mask = mask ? mask->state_ : nullptr;
}

void KerasTensor::set_history(std::shared_ptr<Node> node, int64_t index) {
  state_->node = std::move(node);
  state_->tensor_index = index;
}

}  // namespace kattn
