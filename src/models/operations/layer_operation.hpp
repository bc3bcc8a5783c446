// What every layer's graph operation shares: names, config, the build_config Keras records,
// typed access to the tensors a node passes in, and the state a training call keeps.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn::detail {

// Keras's auto-naming (backend.get_uid): `base` for the first object of that name in the
// process, then base_1, base_2, ...
std::string unique_name(const std::string& base);

// A shape as config.json writes it: a list with null for None (-1).
Config shape_config(const Shape& shape);

// The float32 / int32 / bool tensor of a node input; ValueError naming the argument and the
// dtype it has otherwise.
const Tensor& float_input(const ModelValue& value, ErrorSource source, std::string_view argument);
const Int32Tensor& int_input(const ModelValue& value, ErrorSource source,
                             std::string_view argument);
const Mask& bool_input(const ModelValue& value, ErrorSource source, std::string_view argument);
// ValueError unless the symbolic tensor has that dtype.
void check_dtype(const KerasTensor& tensor, DType expected, ErrorSource source,
                 std::string_view argument);

// The Keras mask a mask argument holds: an explicit bool tensor, or nullopt.
std::optional<Mask> mask_argument(const std::optional<ValuePtr>& value, ErrorSource source,
                                  std::string_view argument);

// What the layer operations' forward() keeps in OperationForward::saved, always stored there as
// a pointer to this base: the operation that made it and, in SavedLayerCall, the layer's
// training call.
struct SavedOperationCall {
  virtual ~SavedOperationCall() = default;
  const Operation* operation = nullptr;
};

template <typename Forward>
struct SavedLayerCall : SavedOperationCall {
  Forward forward;
};

// `forward` (a layer's training call) as OperationForward::saved, for `operation`.
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
inline const Tensor* output_gradient(const std::vector<std::optional<Tensor>>& d_outputs,
                                     size_t index) {
  return index < d_outputs.size() && d_outputs[index] ? &*d_outputs[index] : nullptr;
}

template <typename L>
class LayerOperation : public Operation {
 public:
  explicit LayerOperation(std::shared_ptr<L> layer) : layer_(std::move(layer)) {}

  std::string class_name() const override { return layer_->class_name(); }
  std::string name() const override { return layer_->name(); }
  std::string module() const override { return "keras.layers"; }
  Config get_config() const override { return layer_->get_config(); }
  Config build_config() const override { return build_config_; }
  Layer* layer() override { return layer_.get(); }

 protected:
  ErrorSource source() const { return {layer_->class_name(), layer_->name()}; }
  // backward() of an operation whose layer takes one float32 `inputs` tensor and gives one
  // output through a LayerForward: the layer's gradient for `inputs`.
  ValueGradients unary_backward(const BoundArguments<ValuePtr>& arguments,
                                const OperationForward& forward,
                                const std::vector<std::optional<Tensor>>& d_outputs,
                                std::vector<Tensor>& weight_gradients) const {
    const LayerForward& call = saved_call<LayerForward>(*this, forward, source());
    const Tensor* d_output = output_gradient(d_outputs, 0);
    if (d_output == nullptr) return {};
    return {{arguments.tensor("inputs"), layer_->backward(call, *d_output, weight_gradients)}};
  }
  // Keras records the shapes of the first build only.
  void record_build_config(Config build_config) {
    if (build_config_.is_null()) build_config_ = std::move(build_config);
  }

  std::shared_ptr<L> layer_;

 private:
  Config build_config_ = nullptr;
};

}  // namespace kattn::detail

namespace kattn::detail {

// What a single-input layer does with the Keras mask of its input (Keras's supports_masking
// and compute_mask): pass it on to the output, or drop it.
enum class MaskRule { kPassThrough, kDrop };

// A layer called on one float32 tensor (`call(inputs)`), e.g. Dense, Conv1D,
// LayerNormalization. `kRecordsBuild`: Keras writes a build_config for the class (the layer
// class defines build()).
template <typename L, MaskRule kMask, bool kRecordsBuild>
class UnaryLayerOperation : public LayerOperation<L> {
 public:
  using LayerOperation<L>::LayerOperation;

  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& x = arguments.tensor("inputs");
    check_dtype(x, DType::kFloat32, this->source(), "inputs");
    Shape shape = x.shape();
    if constexpr (requires(L & layer) { layer.build(shape); }) this->layer_->build(shape);
    if constexpr (kRecordsBuild)
      this->record_build_config(Config{{"input_shape", shape_config(shape)}});
    if constexpr (requires(const L& layer) { layer.compute_output_shape(shape); }) {
      shape = this->layer_->compute_output_shape(shape);
    }
    KerasTensor output(shape, DType::kFloat32);
    if (kMask == MaskRule::kPassThrough) output.set_keras_mask(x.keras_mask());
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    Tensor y = this->layer_->call(float_input(*x, this->source(), "inputs"));
    return {
        make_value(std::move(y), kMask == MaskRule::kPassThrough ? x->keras_mask : std::nullopt)};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext&) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    LayerForward call = this->layer_->forward(float_input(*x, this->source(), "inputs"));
    OperationForward result;
    result.outputs = {
        make_value(call.output, kMask == MaskRule::kPassThrough ? x->keras_mask : std::nullopt)};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    return this->unary_backward(arguments, forward, d_outputs, weight_gradients);
  }
};

}  // namespace kattn::detail
