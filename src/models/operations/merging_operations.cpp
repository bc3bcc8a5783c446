// Add, Multiply and Concatenate in a model graph: one list argument; the output mask from the
// input masks by the layer's compute_mask (masks get no gradient).
#include "kattn/layers/merging.hpp"
#include "models/operation_registry.hpp"
#include "models/operations/layer_operation.hpp"
#include "models/operations/numpy_operations.hpp"

namespace kattn::detail {

namespace {

template <typename L>
class MergeOperation : public LayerOperation<L> {
 public:
  using LayerOperation<L>::LayerOperation;

  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const std::vector<KerasTensor> inputs = input_list(arguments);
    std::vector<Shape> shapes;
    Config build_shapes = Config::array();
    for (const KerasTensor& input : inputs) {
      check_dtype(input, DType::kFloat32, this->source(), "inputs");
      shapes.push_back(input.shape());
      build_shapes.push_back(shape_config(input.shape()));
    }
    this->layer_->build(shapes);
    this->record_build_config(Config{{"input_shape", build_shapes}});
    KerasTensor output(this->layer_->compute_output_shape(shapes), DType::kFloat32);
    // Keras's Merge.compute_mask: the logical_or of the input masks when every input has one.
    // (Concatenate's mask is left out of the symbolic graph: a saved config then records no
    // mask for a pooling of it, and the pooling reads the run-time mask, which is the same.)
    if constexpr (!std::is_same_v<L, Concatenate>) {
      std::optional<KerasTensor> mask = inputs[0].keras_mask();
      for (size_t i = 1; mask && i < inputs.size(); ++i) {
        const std::optional<KerasTensor> next = inputs[i].keras_mask();
        mask = next ? std::optional(symbolic_logical_or(*mask, *next)) : std::nullopt;
      }
      output.set_keras_mask(mask);
    }
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const std::vector<ValuePtr> inputs = input_list(arguments);
    const std::vector<Tensor> tensors = float_tensors(inputs);
    std::optional<Mask> mask = output_mask(inputs, tensors);
    return {make_value(this->layer_->call(tensors), std::move(mask))};
  }

  OperationForward forward(const BoundArguments<ValuePtr>& arguments,
                           const RunContext&) const override {
    const std::vector<ValuePtr> inputs = input_list(arguments);
    const std::vector<Tensor> tensors = float_tensors(inputs);
    std::optional<Mask> mask = output_mask(inputs, tensors);
    LayerForward call = this->layer_->forward(tensors);
    OperationForward result;
    result.outputs = {make_value(call.output, std::move(mask))};
    result.saved = save_call(*this, std::move(call));
    return result;
  }

  // One entry per list element: a value listed twice (x + x) gets two, which add up.
  ValueGradients backward(const BoundArguments<ValuePtr>& arguments,
                          const OperationForward& forward,
                          const std::vector<std::optional<Tensor>>& d_outputs,
                          std::vector<Tensor>& weight_gradients) const override {
    const LayerForward& call = saved_call<LayerForward>(*this, forward, this->source());
    const Tensor* d_output = output_gradient(d_outputs, 0);
    if (d_output == nullptr) return {};
    const std::vector<ValuePtr> inputs = input_list(arguments);
    std::vector<Tensor> grads = this->layer_->backward(call, *d_output, weight_gradients);
    ValueGradients result;
    for (size_t i = 0; i < inputs.size(); ++i) result.emplace_back(inputs[i], std::move(grads[i]));
    return result;
  }

 private:
  std::vector<Tensor> float_tensors(const std::vector<ValuePtr>& inputs) const {
    std::vector<Tensor> tensors;
    for (const ValuePtr& input : inputs) {
      tensors.push_back(float_input(*input, this->source(), "inputs"));
    }
    return tensors;
  }

  // The layer's compute_mask of the inputs' Keras masks.
  std::optional<Mask> output_mask(const std::vector<ValuePtr>& inputs,
                                  const std::vector<Tensor>& tensors) const {
    std::vector<std::optional<Mask>> masks;
    bool any_mask = false;
    for (const ValuePtr& input : inputs) {
      masks.push_back(input->keras_mask);
      any_mask = any_mask || input->keras_mask.has_value();
    }
    if (!any_mask) masks.clear();  // Keras passes mask=None when no input has one
    return this->layer_->compute_mask(tensors, masks);
  }

  template <typename Leaf>
  std::vector<Leaf> input_list(const BoundArguments<Leaf>& arguments) const {
    std::vector<Leaf> inputs;
    for (const std::optional<Leaf>& input : arguments.tensor_list("inputs")) {
      if (!input) {
        throw_value_error(this->source(), "invalid call argument `inputs`", "a list of tensors",
                          "a list containing None");
      }
      inputs.push_back(*input);
    }
    if (inputs.empty()) {
      throw_value_error(this->source(), "invalid call argument `inputs`",
                        "a list of at least one tensor", "no tensors");
    }
    return inputs;
  }
};

}  // namespace

std::vector<OperationEntry> merging_operation_entries() {
  return {layer_entry<MergeOperation<Add>, Add>("Add"),
          layer_entry<MergeOperation<Multiply>, Multiply>("Multiply"),
          layer_entry<MergeOperation<Concatenate>, Concatenate>("Concatenate")};
}

}  // namespace kattn::detail
