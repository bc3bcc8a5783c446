// Conv1D and the global poolings in a model graph: none of them passes a mask on;
// GlobalAveragePooling1D averages over the steps its mask keeps.
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
    std::optional<Mask> mask = x->keras_mask;
    if (arguments.given("mask"))
      mask = mask_argument(arguments.optional_tensor("mask"), source(), "mask");
    return {make_value(layer_->call(float_input(*x, source(), "inputs"), mask))};
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
