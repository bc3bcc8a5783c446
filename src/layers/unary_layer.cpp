#include "kattn/layers/unary_layer.hpp"

#include "layers/detail/layer_backward.hpp"

namespace kattn {

using detail::float_input;

UnaryLayer::UnaryLayer(std::string class_name, LayerArgs args, MaskRule mask_rule,
                       BuildRecord build_record)
    : Layer(std::move(class_name), std::move(args)),
      mask_rule_(mask_rule),
      build_record_(build_record) {}

const std::vector<std::string>& UnaryLayer::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs"};
  return parameters;
}

std::vector<KerasTensor> UnaryLayer::compute_output_spec(
    const BoundArguments<KerasTensor>& arguments) {
  const KerasTensor& x = arguments.tensor("inputs");
  detail::check_dtype(x, DType::kFloat32, error_source(), "inputs");
  build(x.shape());
  if (build_record_ == BuildRecord::kRecorded) {
    record_build_config(Config{{"input_shape", detail::shape_config(x.shape())}});
  }
  KerasTensor output(compute_output_shape(x.shape()), DType::kFloat32);
  if (mask_rule_ == MaskRule::kPassThrough) output.set_keras_mask(x.keras_mask());
  return {output};
}

std::vector<ValuePtr> UnaryLayer::call_node(const BoundArguments<ValuePtr>& arguments,
                                            const RunContext& /*context*/) const {
  const ValuePtr& x = arguments.tensor("inputs");
  Tensor y = call(float_input(*x, error_source(), "inputs"));
  return {make_value(std::move(y),
                     mask_rule_ == MaskRule::kPassThrough ? x->keras_mask : std::nullopt)};
}

OperationForward UnaryLayer::forward_node(const BoundArguments<ValuePtr>& arguments,
                                          const RunContext& /*context*/) const {
  const ValuePtr& x = arguments.tensor("inputs");
  LayerForward saved = forward(float_input(*x, error_source(), "inputs"));
  OperationForward result;
  result.outputs = {make_value(
      saved.output, mask_rule_ == MaskRule::kPassThrough ? x->keras_mask : std::nullopt)};
  result.saved = detail::save_call(*this, std::move(saved));
  return result;
}

ValueGradients UnaryLayer::backward_node(const BoundArguments<ValuePtr>& arguments,
                                         const OperationForward& forward,
                                         const std::vector<std::optional<Tensor>>& d_outputs,
                                         std::vector<Tensor>& weight_gradients) const {
  return detail::unary_backward(*this, arguments, forward, d_outputs, weight_gradients);
}

}  // namespace kattn
