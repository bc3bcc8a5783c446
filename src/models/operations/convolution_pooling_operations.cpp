// Conv1D and the global poolings in a model graph: none of them passes a mask on;
// GlobalAveragePooling1D averages over the steps its mask keeps. Training calls run the layers'
// forward() and backward().
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/pooling.hpp"
#include "models/operation_registry.hpp"
#include "models/operations/layer_operation.hpp"

namespace kattn::detail {

namespace {

// GlobalAveragePooling1D: call(inputs, mask=None); the mask is the node's `mask` keyword when
// it is a tensor, else the input's Keras mask.
class GlobalAveragePoolingOperation : public LayerOperation<GlobalAveragePooling1D> {
 public:
  using LayerOperation::LayerOperation;
  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs", "mask"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& x = arguments.tensor("inputs");
    check_dtype(x, DType::kFloat32, source(), "inputs");
    if (const std::optional<KerasTensor> mask = arguments.optional_tensor("mask")) {
      check_dtype(*mask, DType::kBool, source(), "mask");
    }
    return {KerasTensor(layer_->compute_output_shape(x.shape()), DType::kFloat32)};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    return {make_value(layer_->call(float_input(*x, source(), "inputs"), mask_of(arguments)))};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext&) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    LayerForward call = layer_->forward(float_input(*x, source(), "inputs"), mask_of(arguments));
    OperationForward result;
    result.outputs = {make_value(call.output)};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  // The mask is a constant: only the inputs get a gradient.
  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    return unary_backward(arguments, forward, d_outputs, weight_gradients);
  }

 private:
  std::optional<Mask> mask_of(const BoundArguments<ValuePtr>& arguments) const {
    if (arguments.given("mask")) {
      return mask_argument(arguments.optional_tensor("mask"), source(), "mask");
    }
    return arguments.tensor("inputs")->keras_mask;
  }
};

}  // namespace

std::vector<OperationEntry> convolution_pooling_operation_entries() {
  return {
      layer_entry<UnaryLayerOperation<Conv1D, MaskRule::kDrop, true>, Conv1D>("Conv1D"),
      layer_entry<GlobalAveragePoolingOperation, GlobalAveragePooling1D>("GlobalAveragePooling1D"),
      layer_entry<UnaryLayerOperation<GlobalMaxPooling1D, MaskRule::kDrop, false>,
                  GlobalMaxPooling1D>("GlobalMaxPooling1D")};
}

}  // namespace kattn::detail
