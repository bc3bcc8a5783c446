// keras.layers.RNN over the built-in cells: RNN.build, RNN.call with the cells' weights, and
// the layer as a graph node.
#include "kattn/layers/rnn.hpp"

#include <algorithm>
#include <utility>

#include "core/node_inputs.hpp"
#include "kattn/ops/recurrent_backward.hpp"
#include "layers/detail/recurrent_args.hpp"
#include "layers/detail/recurrent_node.hpp"

namespace kattn {

namespace detail {

RNNOptions read_rnn_options(ConfigReader& reader) {
  RNNOptions options;
  options.return_sequences = reader.get_bool("return_sequences", false);
  options.return_state = reader.get_bool("return_state", false);
  options.go_backwards = reader.get_bool("go_backwards", false);
  options.stateful = reader.get_bool("stateful", false);
  options.unroll = reader.get_bool("unroll", false);
  options.zero_output_for_mask = reader.get_bool("zero_output_for_mask", false);
  return options;
}

}  // namespace detail

namespace {

// The cells' min(1, max(0, rate)).
double clamped_rate(double rate) { return std::min(1.0, std::max(0.0, rate)); }

std::string shape_list(const std::vector<Tensor>& tensors) {
  std::string text = "[";
  for (const Tensor& tensor : tensors) {
    text += (text.size() > 1 ? ", " : "") + detail::keras_shape(tensor.shape());
  }
  return text + "]";
}

}  // namespace

RNN::RNN(std::string class_name, LayerArgs args, CellArgs cell, RNNOptions options)
    : Layer(std::move(class_name), std::move(args)),
      cell_(std::move(cell)),
      options_(options),
      seed_generator_(cell_.seed) {
  detail::check_positive_argument(error_source(), "units", cell_.units);
  if (options_.stateful) {
    throw NotSupportedError(error_message(error_source(),
                                          "stateful recurrent layers are not implemented",
                                          "stateful=False", "stateful=True"));
  }
  cell_.dropout = clamped_rate(cell_.dropout);
  cell_.recurrent_dropout = clamped_rate(cell_.recurrent_dropout);
  cell_.kernel =
      detail::resolved_weight_args(std::move(cell_.kernel), Initializer::glorot_uniform());
  cell_.recurrent =
      detail::resolved_weight_args(std::move(cell_.recurrent), Initializer::orthogonal());
  cell_.bias = detail::resolved_weight_args(std::move(cell_.bias), Initializer::zeros());
}

std::string RNN::cell_name() const {
  switch (cell_.kind) {
    case ops::RecurrentCell::kLSTM:
      return "lstm_cell";
    case ops::RecurrentCell::kGRU:
      return "gru_cell";
    case ops::RecurrentCell::kSimpleRNN:
      break;
  }
  return "simple_rnn_cell";
}

void RNN::build(const Shape& sequences_shape) {
  build_once([&] { build_weights(sequences_shape); });
}

void RNN::build_weights(const Shape& sequences_shape) {
  for (WeightSpec& spec : weight_specs(sequences_shape)) {
    add_weight(std::move(spec.name), spec.shape, spec.args);
  }
  if (cell_.use_bias) finish_initial_bias(weights_for_update().back().value);
}

std::vector<RNN::WeightSpec> RNN::weight_specs(const Shape& sequences_shape) const {
  // Keras's InputSpec(ndim=3), then the cell's build on (B, F).
  if (sequences_shape.size() != 3 || sequences_shape[2] <= 0) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "sequences of rank 3 (batch, timesteps, features) with known features",
                      "shape=" + detail::keras_shape(sequences_shape));
  }
  const int64_t units = cell_.units, width = ops::recurrent_gates(cell_.kind) * units;
  const std::string cell = cell_name();
  std::vector<WeightSpec> specs{{cell + "/kernel", {sequences_shape[2], width}, cell_.kernel},
                                {cell + "/recurrent_kernel", {units, width}, cell_.recurrent}};
  if (cell_.use_bias) {
    const bool two_biases = cell_.kind == ops::RecurrentCell::kGRU && cell_.reset_after;
    specs.push_back({cell + "/bias", two_biases ? Shape{2, width} : Shape{width}, cell_.bias});
  }
  return specs;
}

void RNN::finish_initial_bias(Tensor& bias) const {
  if (cell_.kind != ops::RecurrentCell::kLSTM || !cell_.unit_forget_bias) return;
  // LSTMCell's bias initializer: bias_initializer's values, then ones for the forget gate.
  std::fill(bias.data() + cell_.units, bias.data() + 2 * cell_.units, 1.0f);
}

std::vector<Shape> RNN::compute_output_shape(const Shape& sequences_shape) const {
  if (sequences_shape.size() != 3) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "sequences of rank 3 (batch, timesteps, features)",
                      "shape=" + detail::keras_shape(sequences_shape));
  }
  const int64_t batch = sequences_shape[0];
  std::vector<Shape> shapes{options_.return_sequences
                                ? Shape{batch, sequences_shape[1], cell_.units}
                                : Shape{batch, cell_.units}};
  if (options_.return_state) {
    for (int64_t k = 0; k < ops::recurrent_states(cell_.kind); ++k) {
      shapes.push_back({batch, cell_.units});
    }
  }
  return shapes;
}

void RNN::check_call(const Tensor& kernel, const Tensor& sequences,
                     const RecurrentCallArgs& args) const {
  if (sequences.rank() != 3 || sequences.dim(2) != kernel.dim(0)) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "sequences (batch, timesteps, " + std::to_string(kernel.dim(0)) + ")",
                      "shape=" + detail::keras_shape(sequences.shape()));
  }
  const int64_t batch = sequences.dim(0), steps = sequences.dim(1);
  if (args.mask && args.mask->shape() != Shape{batch, steps}) {
    throw_value_error(error_source(), "invalid call argument `mask`",
                      "a mask of shape " + detail::keras_shape({batch, steps}) +
                          " (batch, timesteps) for sequences " +
                          detail::keras_shape(sequences.shape()),
                      "shape=" + detail::keras_shape(args.mask->shape()));
  }
  if (args.initial_state.empty()) return;
  const auto count = static_cast<size_t>(ops::recurrent_states(cell_.kind));
  const bool shapes_match =
      std::all_of(args.initial_state.begin(), args.initial_state.end(), [&](const Tensor& state) {
        return state.shape() == Shape{batch, cell_.units};
      });
  if (args.initial_state.size() != count || !shapes_match) {
    const std::string one = detail::keras_shape({batch, cell_.units});
    throw_value_error(
        error_source(), "invalid call argument `initial_state`",
        count == 2 ? "2 tensors [h, c], each of shape " + one : "1 tensor [h] of shape " + one,
        std::to_string(args.initial_state.size()) + " tensor(s) of shapes " +
            shape_list(args.initial_state));
  }
}

ops::RecurrentDropoutMasks<float> RNN::dropout_masks(const Tensor& sequences) const {
  const auto dropping = [](double rate) { return rate > 0.0 && rate < 1.0; };
  // Keras's cells draw one mask per gate block when recurrent_dropout is set (implementation
  // 1); SimpleRNN always one.
  const bool per_gate =
      cell_.kind != ops::RecurrentCell::kSimpleRNN && cell_.recurrent_dropout != 0.0;
  const int64_t count = per_gate ? ops::recurrent_gates(cell_.kind) : 1;
  const auto draw = [&](double rate, int64_t depth) {
    const uint64_t key = seed_generator_.next_key();
    const auto scale = static_cast<float>(1.0 / (1.0 - rate));
    std::vector<Tensor> masks;
    for (int64_t c = 0; c < count; ++c) {
      Tensor mask({sequences.dim(0), depth});
      for (int64_t i = 0; i < mask.size(); ++i) {
        const auto index = static_cast<uint64_t>(c * mask.size() + i);
        mask.data()[i] = dropout_keeps(key, index, rate) ? scale : 0.0f;
      }
      masks.push_back(std::move(mask));
    }
    return masks;
  };
  ops::RecurrentDropoutMasks<float> masks;
  if (dropping(cell_.dropout)) masks.inputs = draw(cell_.dropout, sequences.dim(2));
  if (dropping(cell_.recurrent_dropout)) {
    masks.recurrent = draw(cell_.recurrent_dropout, cell_.units);
  }
  return masks;
}

std::vector<const Tensor*> RNN::own_weights() const {
  std::vector<const Tensor*> values;
  for (const Variable& weight : weights()) values.push_back(&weight.value);
  return values;
}

RecurrentOutput RNN::call(const Tensor& sequences, const RecurrentCallArgs& args) const {
  build_once([&] { const_cast<RNN*>(this)->build_weights(sequences.shape()); });
  const auto packed = std::static_pointer_cast<const ops::PackedRecurrentWeights>(
      derived_from_weights([&] { return pack_weights(own_weights()); }));
  return call_with(own_weights(), sequences, args, packed.get());
}

std::shared_ptr<const ops::PackedRecurrentWeights> RNN::pack_weights(
    const std::vector<const Tensor*>& weights) const {
  return ops::pack_recurrent_weights(
      {*weights[0], *weights[1], cell_.use_bias ? weights[2] : nullptr});
}

ops::RecurrentSpec RNN::spec() const {
  return {.cell = cell_.kind,
          .activation = cell_.activation,
          .recurrent_activation = cell_.recurrent_activation,
          .reset_after = cell_.reset_after,
          .go_backwards = options_.go_backwards,
          .return_sequences = options_.return_sequences,
          .zero_output_for_mask = options_.zero_output_for_mask,
          .unroll = options_.unroll};
}

RecurrentOutput RNN::call_with(const std::vector<const Tensor*>& weights, const Tensor& sequences,
                               const RecurrentCallArgs& args,
                               const ops::PackedRecurrentWeights* packed) const {
  check_call(*weights[0], sequences, args);
  if (args.training && (cell_.dropout > 0.0 || cell_.recurrent_dropout > 0.0)) {
    return forward_with(weights, sequences, args).result;
  }
  const ops::RecurrentWeights recurrent_weights{*weights[0], *weights[1],
                                                cell_.use_bias ? weights[2] : nullptr};
  ops::RecurrentResult result =
      ops::recurrent(sequences, recurrent_weights, spec(), args.mask ? &*args.mask : nullptr,
                     args.initial_state, packed);
  return {std::move(result.output), std::move(result.states)};
}

namespace {

// What a training call keeps for its backward.
struct RecurrentSaved {
  const RNN* layer = nullptr;
  Tensor sequences;
  std::optional<Mask> mask;
  size_t initial_states = 0;
  ops::RecurrentDropoutMasks<float> dropout;
  ops::RecurrentTape<float> tape;
};

}  // namespace

RecurrentForward RNN::forward_with(const std::vector<const Tensor*>& weights,
                                   const Tensor& sequences, const RecurrentCallArgs& args) const {
  check_call(*weights[0], sequences, args);
  auto saved = std::make_shared<RecurrentSaved>();
  saved->layer = this;
  saved->sequences = sequences.contiguous();
  saved->mask = args.mask;
  saved->initial_states = args.initial_state.size();
  if (args.training) saved->dropout = dropout_masks(sequences);
  saved->tape = ops::recurrent_forward<float>(
      saved->sequences, {*weights[0], *weights[1], cell_.use_bias ? weights[2] : nullptr}, spec(),
      args.mask ? &*args.mask : nullptr, args.initial_state, saved->dropout);
  RecurrentOutput result{saved->tape.output, saved->tape.states};
  return {std::move(result), std::move(saved)};
}

RecurrentInputGradients RNN::backward_with(const std::vector<const Tensor*>& weights,
                                           const RecurrentForward& forward, const Tensor* d_output,
                                           const std::vector<const Tensor*>& d_states,
                                           std::span<Tensor> weight_gradients) const {
  const auto* saved = static_cast<const RecurrentSaved*>(forward.saved.get());
  if (saved == nullptr || saved->layer != this) {
    throw_value_error(error_source(), "a backward pass of another call",
                      "the forward_with() result of this layer",
                      saved == nullptr ? "none" : "another layer's");
  }
  const Tensor zeros_output(saved->tape.output.shape());
  std::vector<Tensor> d_final;
  for (const Tensor* d : d_states) d_final.push_back(d != nullptr ? *d : Tensor());
  ops::RecurrentGradients<float> grads = ops::recurrent_backward<float>(
      saved->sequences, {*weights[0], *weights[1], cell_.use_bias ? weights[2] : nullptr}, spec(),
      saved->mask ? &*saved->mask : nullptr, saved->tape,
      d_output != nullptr ? *d_output : zeros_output, d_final, saved->dropout);
  const auto add = [](Tensor& into, const Tensor& gradient) {
    for (int64_t i = 0; i < into.size(); ++i) into.data()[i] += gradient.data()[i];
  };
  add(weight_gradients[0], grads.kernel);
  add(weight_gradients[1], grads.recurrent_kernel);
  if (cell_.use_bias) add(weight_gradients[2], grads.bias);
  if (saved->initial_states == 0) grads.initial_state.clear();
  return {std::move(grads.sequences), std::move(grads.initial_state)};
}

Config RNN::get_config() const {
  Config config = Layer::get_config();
  config["return_sequences"] = options_.return_sequences;
  config["return_state"] = options_.return_state;
  config["go_backwards"] = options_.go_backwards;
  config["stateful"] = options_.stateful;
  config["unroll"] = options_.unroll;
  config["zero_output_for_mask"] = options_.zero_output_for_mask;
  config["units"] = cell_.units;
  config["activation"] = cell_.activation.get_config();
  const bool simple = cell_.kind == ops::RecurrentCell::kSimpleRNN;
  if (!simple) config["recurrent_activation"] = cell_.recurrent_activation.get_config();
  config["use_bias"] = cell_.use_bias;
  detail::write_weight_args(config, "kernel", cell_.kernel);
  detail::write_weight_args(config, "recurrent", cell_.recurrent);
  detail::write_weight_args(config, "bias", cell_.bias);
  if (cell_.kind == ops::RecurrentCell::kLSTM) config["unit_forget_bias"] = cell_.unit_forget_bias;
  if (cell_.kind == ops::RecurrentCell::kGRU) config["reset_after"] = cell_.reset_after;
  config["activity_regularizer"] = cell_.activity_regularizer;
  config["dropout"] = cell_.dropout;
  config["recurrent_dropout"] = cell_.recurrent_dropout;
  if (!simple) config["seed"] = detail::optional_to_json(cell_.seed);
  return config;
}

const std::vector<std::string>& RNN::call_parameters() const {
  static const std::vector<std::string> parameters{"sequences", "initial_state", "mask",
                                                   "training"};
  return parameters;
}

std::vector<KerasTensor> RNN::compute_output_spec(const SymbolicArguments& arguments) {
  Config build_config = detail::recurrent_build_config(arguments, error_source());
  const Shape& sequences = arguments.tensor("sequences").shape();
  build(sequences);
  record_build_config(std::move(build_config));
  return detail::recurrent_outputs(compute_output_shape(sequences),
                                   passes_mask_ && options_.return_sequences ? 1 : 0, arguments);
}

std::vector<ValuePtr> RNN::call_node(const ValueArguments& arguments,
                                     const RunContext& context) const {
  const RecurrentCallArgs args = detail::recurrent_call_args(arguments, context, error_source());
  RecurrentOutput result =
      call(detail::float_input(*arguments.tensor("sequences"), error_source(), "sequences"), args);
  std::vector<ValuePtr> outputs{
      make_value(std::move(result.output), passes_mask_ && options_.return_sequences
                                               ? detail::previous_mask(arguments, error_source())
                                               : std::nullopt)};
  if (options_.return_state) {
    for (Tensor& state : result.states) outputs.push_back(make_value(std::move(state)));
  }
  return outputs;
}

OperationForward RNN::forward_node(const ValueArguments& arguments,
                                   const RunContext& context) const {
  const RecurrentCallArgs args = detail::recurrent_call_args(arguments, context, error_source());
  const Tensor& sequences =
      detail::float_input(*arguments.tensor("sequences"), error_source(), "sequences");
  build_once([&] { const_cast<RNN*>(this)->build_weights(sequences.shape()); });
  RecurrentForward forward = forward_with(own_weights(), sequences, args);
  std::vector<ValuePtr> outputs{
      make_value(forward.result.output, passes_mask_ && options_.return_sequences
                                            ? detail::previous_mask(arguments, error_source())
                                            : std::nullopt)};
  if (options_.return_state) {
    for (const Tensor& state : forward.result.states) outputs.push_back(make_value(state));
  }
  return {std::move(outputs), detail::save_call(*this, std::move(forward))};
}

ValueGradients RNN::backward_node(const ValueArguments& arguments, const BackwardPass& pass) const {
  const RecurrentForward& forward =
      detail::saved_call<RecurrentForward>(*this, pass.forward, error_source());
  std::vector<const Tensor*> d_states;
  if (options_.return_state) {
    for (size_t k = 0; k < forward.result.states.size(); ++k) {
      d_states.push_back(detail::output_gradient(pass.d_outputs, k + 1));
    }
  }
  RecurrentInputGradients grads =
      backward_with(own_weights(), forward, detail::output_gradient(pass.d_outputs, 0), d_states,
                    pass.weight_gradients);
  ValueGradients gradients{{arguments.tensor("sequences"), std::move(grads.sequences)}};
  size_t k = 0;
  for (const std::optional<ValuePtr>& state : arguments.tensor_list("initial_state")) {
    if (state && k < grads.initial_state.size()) {
      gradients.emplace_back(*state, std::move(grads.initial_state[k++]));
    }
  }
  return gradients;
}

void RNN::follow_keras_version(const KerasVersion& version) {
  passes_mask_ = version < KerasVersion{3, 16, 0};
  masks_first_argument_ = version.major < 3;
}

WeightLayout RNN::weight_layout() const {
  WeightLayout layout;
  for (int i = 0; i < (cell_.use_bias ? 3 : 2); ++i) {
    layout.datasets.push_back("cell/vars/" + std::to_string(i));
  }
  layout.groups = {{"vars", name()}, {"cell/vars", cell_name()}};
  return layout;
}

}  // namespace kattn
