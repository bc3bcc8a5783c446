#include "layers/detail/recurrent_node.hpp"

#include "core/node_inputs.hpp"

namespace kattn::detail {

std::optional<Mask> previous_mask(const ValueArguments& arguments, ErrorSource source) {
  if (arguments.given("mask")) {
    return mask_argument(arguments.optional_tensor("mask"), source, "mask");
  }
  return arguments.tensor("sequences")->keras_mask;
}

std::optional<KerasTensor> previous_mask(const SymbolicArguments& arguments) {
  if (const std::optional<KerasTensor> mask = arguments.optional_tensor("mask")) return mask;
  return arguments.tensor("sequences").keras_mask();
}

RecurrentCallArgs recurrent_call_args(const ValueArguments& arguments, const RunContext& context,
                                      ErrorSource source) {
  RecurrentCallArgs args;
  for (const std::optional<ValuePtr>& state : arguments.tensor_list("initial_state")) {
    if (state) args.initial_state.push_back(float_input(**state, source, "initial_state"));
  }
  if (arguments.given("mask") || args.initial_state.empty()) {
    args.mask = previous_mask(arguments, source);
  }
  args.training = arguments.flag("training", context.training);
  return args;
}

Config recurrent_build_config(const SymbolicArguments& arguments, ErrorSource source) {
  const KerasTensor& sequences = arguments.tensor("sequences");
  check_dtype(sequences, DType::kFloat32, source, "sequences");
  Config state_shapes = Config::array();
  for (const std::optional<KerasTensor>& state : arguments.tensor_list("initial_state")) {
    if (!state) continue;
    check_dtype(*state, DType::kFloat32, source, "initial_state");
    state_shapes.push_back(shape_config(state->shape()));
  }
  const Config sequences_shape = shape_config(sequences.shape());
  if (state_shapes.empty()) return Config{{"input_shape", sequences_shape}};
  return Config{{"shapes_dict",
                 {{"sequences_shape", sequences_shape}, {"initial_state_shape", state_shapes}}}};
}

std::vector<KerasTensor> recurrent_outputs(std::vector<Shape> shapes, size_t masked,
                                           const SymbolicArguments& arguments) {
  std::vector<KerasTensor> outputs;
  for (Shape& shape : shapes) outputs.emplace_back(std::move(shape), DType::kFloat32);
  for (size_t k = 0; k < masked; ++k) outputs[k].set_keras_mask(previous_mask(arguments));
  return outputs;
}

Config serialized_layer(const Layer& layer, const Config& input_shape) {
  Config serialized{{"module", layer.module()},
                    {"class_name", layer.class_name()},
                    {"config", layer.get_config()},
                    {"registered_name", nullptr}};
  if (!input_shape.is_null()) serialized["build_config"] = Config{{"input_shape", input_shape}};
  return serialized;
}

}  // namespace kattn::detail
