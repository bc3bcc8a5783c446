// Dense, EinsumDense, Embedding, Masking, Activation, Dropout and LayerNormalization in a model
// graph, with their training calls: the layers' forward() and backward(); the Keras masks the
// outputs carry get no gradient.
#include "kattn/layers/activation.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/einsum_dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/masking.hpp"
#include "models/operation_registry.hpp"
#include "models/operations/layer_operation.hpp"
#include "models/operations/numpy_operations.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kInputs{"inputs"};

// Embedding: ids in, features out; with mask_zero the output carries ids != 0. Float ids are
// cast to int32 as Embedding.call casts them, the mask compared before the cast.
class EmbeddingOperation : public LayerOperation<Embedding> {
 public:
  using LayerOperation::LayerOperation;
  const std::vector<std::string>& call_parameters() const override { return kInputs; }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& ids = arguments.tensor("inputs");
    if (ids.dtype() == DType::kBool) check_dtype(ids, DType::kInt32, source(), "inputs");
    layer_->build(ids.shape());
    record_build_config(Config{{"input_shape", shape_config(ids.shape())}});
    KerasTensor output(layer_->compute_output_shape(ids.shape()), DType::kFloat32);
    // Keras's Embedding.compute_mask: ops.not_equal(inputs, 0).
    if (layer_->mask_zero()) output.set_keras_mask(symbolic_not_equal(ids, 0));
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const auto [ids, mask] = ids_and_mask(*arguments.tensor("inputs"));
    return {make_value(layer_->call(ids), mask)};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext&) const override {
    const auto [ids, mask] = ids_and_mask(*arguments.tensor("inputs"));
    LayerForward call = layer_->forward(ids);
    OperationForward result;
    result.outputs = {make_value(call.output, mask)};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  // The ids get no gradient; the embeddings' gradient goes into weight_gradients.
  ValueGradients backward(const BoundArguments<ValuePtr>&, const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    const LayerForward& call = saved_call<LayerForward>(*this, forward, source());
    if (const Tensor* d_output = output_gradient(d_outputs, 0)) {
      layer_->backward(call, *d_output, weight_gradients);
    }
    return {};
  }

 private:
  std::pair<Int32Tensor, std::optional<Mask>> ids_and_mask(const ModelValue& value) const {
    if (const auto* ids = std::get_if<Tensor>(&value.tensor)) {
      return {layer_->cast_ids(*ids), layer_->compute_mask(*ids)};
    }
    const Int32Tensor& ids = int_input(value, source(), "inputs");
    return {ids, layer_->compute_mask(ids)};
  }
};

// Masking: the output carries any(inputs != mask_value, axis=-1).
class MaskingOperation : public LayerOperation<Masking> {
 public:
  using LayerOperation::LayerOperation;
  const std::vector<std::string>& call_parameters() const override { return kInputs; }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& x = arguments.tensor("inputs");
    check_dtype(x, DType::kFloat32, source(), "inputs");
    layer_->build(x.shape());
    KerasTensor output(x.shape(), DType::kFloat32);
    output.set_keras_mask(
        symbolic_any(symbolic_not_equal(x, layer_->get_config()["mask_value"]), -1));
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const Tensor& x = float_input(*arguments.tensor("inputs"), source(), "inputs");
    return {make_value(layer_->call(x), layer_->compute_mask(x))};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext&) const override {
    const Tensor& x = float_input(*arguments.tensor("inputs"), source(), "inputs");
    LayerForward call = layer_->forward(x);
    OperationForward result;
    result.outputs = {make_value(call.output, layer_->compute_mask(x))};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    return unary_backward(arguments, forward, d_outputs, weight_gradients);
  }
};

// Dropout: at inference Keras returns the very input tensor (mask included); in training a
// new one that keeps the input's mask.
class DropoutOperation : public LayerOperation<Dropout> {
 public:
  using LayerOperation::LayerOperation;
  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs", "training"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& x = arguments.tensor("inputs");
    check_dtype(x, DType::kFloat32, source(), "inputs");
    KerasTensor output(x.shape(), DType::kFloat32);
    output.set_keras_mask(x.keras_mask());
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext& context) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    const bool training = arguments.flag("training", context.training);
    const Tensor& inputs = float_input(*x, source(), "inputs");
    if (!training || layer_->rate() == 0.0) return {x};
    return {make_value(layer_->call(inputs, true), x->keras_mask)};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext& context) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    const bool training = arguments.flag("training", context.training);
    LayerForward call = layer_->forward(float_input(*x, source(), "inputs"), training);
    OperationForward result;
    result.outputs = {!training || layer_->rate() == 0.0 ? x
                                                         : make_value(call.output, x->keras_mask)};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    return unary_backward(arguments, forward, d_outputs, weight_gradients);
  }
};

}  // namespace

std::vector<OperationEntry> core_operation_entries() {
  return {layer_entry<UnaryLayerOperation<Dense, MaskRule::kPassThrough, true>, Dense>("Dense"),
          layer_entry<UnaryLayerOperation<EinsumDense, MaskRule::kDrop, true>, EinsumDense>(
              "EinsumDense"),
          layer_entry<UnaryLayerOperation<Activation, MaskRule::kPassThrough, false>, Activation>(
              "Activation"),
          layer_entry<EmbeddingOperation, Embedding>("Embedding"),
          layer_entry<MaskingOperation, Masking>("Masking"),
          layer_entry<DropoutOperation, Dropout>("Dropout"),
          layer_entry<UnaryLayerOperation<LayerNormalization, MaskRule::kPassThrough, true>,
                      LayerNormalization>("LayerNormalization")};
}

}  // namespace kattn::detail
