// What the graph nodes of layers and keras.ops functions share: Keras's auto-naming, typed
// access to the tensors a node passes in, and the state a training call keeps for its backward.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

// Keras's auto-naming (backend.get_uid): `base` for the first object of that name in the
// process (or since clear_session), then base_1, base_2, ... (core/session.cpp).
std::string unique_name(const std::string& base);

// A shape as config.json writes it: a list with null for None (-1).
Config shape_config(const Shape& shape);

// The float32 / int32 / bool tensor of a node input; ValueError naming the argument and the
// dtype it has otherwise.
const Tensor& float_input(const ModelValue& value, ErrorSource source, std::string_view argument);
const Int32Tensor& int_input(const ModelValue& value, ErrorSource source,
                             std::string_view argument);
const Mask& bool_input(const ModelValue& value, ErrorSource source, std::string_view argument);
// The float32 tensors of a node's list argument `inputs` (Attention's, Add's, ...).
std::vector<Tensor> float_inputs(const std::vector<ValuePtr>& inputs, ErrorSource source);
// The shapes of a symbolic list argument `inputs`, each checked to be float32, and the
// build_config Keras records for them: {"input_shape": [shape, ...]}.
struct ListInputShapes {
  std::vector<Shape> shapes;
  Config build_config;
};
ListInputShapes float_input_shapes(const std::vector<KerasTensor>& inputs, ErrorSource source);
// ValueError unless the symbolic tensor has that dtype.
void check_dtype(const KerasTensor& tensor, DType expected, ErrorSource source,
                 std::string_view argument);

// The Keras mask a mask argument holds: an explicit bool tensor, or nullopt.
std::optional<Mask> mask_argument(const std::optional<ValuePtr>& value, ErrorSource source,
                                  std::string_view argument);

// What an operation's forward_node() keeps in OperationForward::saved, always stored there as a
// pointer to this base: the operation that made it and, in SavedLayerCall, the typed training
// call (a LayerForward, an AttentionForward, ...).
struct SavedOperationCall {
  virtual ~SavedOperationCall() = default;
  const Operation* operation = nullptr;
};

template <typename Forward>
struct SavedLayerCall : SavedOperationCall {
  Forward forward;
};

// `forward` (a layer's training call) as OperationForward::saved, for `operation`. Callers write
// `return {outputs_from(forward), save_call(*this, std::move(forward))}`: a braced list is
// evaluated in order, so the outputs are read before the call is moved.
template <typename Forward>
std::shared_ptr<const void> save_call(const Operation& operation, Forward forward) {
  auto saved = std::make_shared<SavedLayerCall<Forward>>();
  saved->operation = &operation;
  saved->forward = std::move(forward);
  return std::shared_ptr<const SavedOperationCall>(std::move(saved));
}

// ValueError: `forward` holds no training call of this operation.
[[noreturn]] void throw_foreign_operation_forward(ErrorSource source, bool has_saved);

// The layer's training call `operation`'s forward() kept in `forward`; ValueError when
// another operation (or none) made it.
template <typename Forward>
const Forward& saved_call(const Operation& operation, const OperationForward& forward,
                          ErrorSource source) {
  if (!forward.saved) throw_foreign_operation_forward(source, false);
  const auto* base = static_cast<const SavedOperationCall*>(forward.saved.get());
  const auto* saved = dynamic_cast<const SavedLayerCall<Forward>*>(base);
  if (saved == nullptr || saved->operation != &operation) {
    throw_foreign_operation_forward(source, true);
  }
  return saved->forward;
}

// The gradient of output `index`, or nullptr when none reaches it.
inline const Tensor* output_gradient(const OutputGradients& d_outputs, size_t index) {
  return index < d_outputs.size() && d_outputs[index] ? &*d_outputs[index] : nullptr;
}

}  // namespace kattn::detail
