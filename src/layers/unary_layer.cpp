#include "kattn/layers/unary_layer.hpp"

#include "layers/detail/layer_backward.hpp"

namespace kattn {

using detail::float_input;

namespace {

// The float32 inputs of a node: int32 ids cast to float32 for the layers that take them.
Tensor node_inputs(const UnaryLayer& layer, const ModelValue& x, ErrorSource source) {
  if (layer.takes_int_ids()) {
    if (const auto* ids = std::get_if<Int32Tensor>(&x.tensor)) return ids->cast<float>();
  }
  return float_input(x, source, "inputs");
}

}  // namespace

UnaryLayer::UnaryLayer(std::string class_name, LayerArgs args, MaskRule mask_rule,
                       BuildRecord build_record)
    : Layer(std::move(class_name), std::move(args)),
      mask_rule_(mask_rule),
      build_record_(build_record) {}

const std::vector<std::string>& UnaryLayer::call_parameters() const {
  static const std::vector<std::string> inputs{"inputs"};
  static const std::vector<std::string> inputs_and_mask{"inputs", "mask"};
  return call_takes_mask() ? inputs_and_mask : inputs;
}

std::vector<KerasTensor> UnaryLayer::compute_output_spec(const SymbolicArguments& arguments) {
  const KerasTensor& x = arguments.tensor("inputs");
  if (!takes_int_ids() || x.dtype() != DType::kInt32) {
    detail::check_dtype(x, DType::kFloat32, error_source(), "inputs");
  }
  const std::optional<KerasTensor> mask = call_mask(arguments);
  if (mask) detail::check_dtype(*mask, DType::kBool, error_source(), "mask");
  build(x.shape());
  if (build_record_ == BuildRecord::kRecorded) {
    record_build_config(Config{{"input_shape", detail::shape_config(x.shape())}});
  }
  KerasTensor output(compute_output_shape(x.shape()), DType::kFloat32);
  output.set_keras_mask(compute_mask(x, mask));
  return {output};
}

std::optional<Mask> UnaryLayer::compute_mask(const Tensor& /*inputs*/,
                                             const std::optional<Mask>& mask) const {
  return mask_rule_ == MaskRule::kPassThrough ? mask : std::nullopt;
}

std::optional<KerasTensor> UnaryLayer::compute_mask(const KerasTensor& /*inputs*/,
                                                    const std::optional<KerasTensor>& mask) const {
  return mask_rule_ == MaskRule::kPassThrough ? mask : std::nullopt;
}

std::vector<ValuePtr> UnaryLayer::call_node(const ValueArguments& arguments,
                                            const RunContext& /*context*/) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const Tensor inputs = node_inputs(*this, *x, error_source());
  const std::optional<Mask> mask = call_mask(arguments);
  Tensor y = call_takes_mask() ? call_masked(inputs, mask) : call(inputs);
  return {make_value(std::move(y), compute_mask(inputs, mask))};
}

OperationForward UnaryLayer::forward_node(const ValueArguments& arguments,
                                          const RunContext& /*context*/) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const Tensor inputs = node_inputs(*this, *x, error_source());
  const std::optional<Mask> mask = call_mask(arguments);
  LayerForward saved = call_takes_mask() ? forward_masked(inputs, mask) : forward(inputs);
  return {{make_value(saved.output, compute_mask(inputs, mask))},
          detail::save_call(*this, std::move(saved))};
}

ValueGradients UnaryLayer::backward_node(const ValueArguments& arguments,
                                         const BackwardPass& pass) const {
  ValueGradients gradients = detail::unary_backward(*this, arguments, pass);
  // int32 ids get no gradient.
  if (dtype_of(arguments.tensor("inputs")->tensor) != DType::kFloat32) gradients.clear();
  return gradients;
}

std::optional<Mask> UnaryLayer::call_mask(const ValueArguments& arguments) const {
  if (call_takes_mask() && arguments.given("mask")) {
    return detail::mask_argument(arguments.optional_tensor("mask"), error_source(), "mask");
  }
  return arguments.tensor("inputs")->keras_mask;
}

std::optional<KerasTensor> UnaryLayer::call_mask(const SymbolicArguments& arguments) const {
  if (call_takes_mask() && arguments.given("mask")) return arguments.optional_tensor("mask");
  return arguments.tensor("inputs").keras_mask();
}

}  // namespace kattn
