// keras.layers.Bidirectional: Bidirectional.__init__ (the two inner layers), build, call and the
// merge, and the layer as a graph node.
#include "kattn/layers/bidirectional.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/node_inputs.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/recurrent_node.hpp"

namespace kattn {

namespace {

// Both directions' weights packed for the fast loop (null where it does not run).
struct PackedDirections {
  std::shared_ptr<const ops::PackedRecurrentWeights> forward;
  std::shared_ptr<const ops::PackedRecurrentWeights> backward;
};

std::string without_prefix(const std::string& name, const std::string& prefix) {
  return name.starts_with(prefix) ? name.substr(prefix.size()) : name;
}

// y (B, T, units) with the time axis reversed.
Tensor flip_time(const Tensor& y) {
  const Tensor x = y.contiguous();
  const int64_t batch = x.dim(0), steps = x.dim(1), units = x.dim(2);
  Tensor flipped(x.shape());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const float* from = x.data() + (b * steps + t) * units;
      std::copy_n(from, units, flipped.data() + (b * steps + steps - 1 - t) * units);
    }
  }
  return flipped;
}

}  // namespace

Bidirectional::Bidirectional(Args args)
    : Layer("Bidirectional", LayerArgs{std::move(args.name), args.trainable}),
      merge_mode_(std::move(args.merge_mode)) {
  if (!args.layer) {
    throw_value_error(error_source(), "Please initialize `Bidirectional` layer with a layer",
                      "an LSTM, GRU or SimpleRNN layer", "None");
  }
  const std::vector<std::string> modes{"sum", "mul", "ave", "concat"};
  if (merge_mode_ && std::find(modes.begin(), modes.end(), *merge_mode_) == modes.end()) {
    throw_value_error(error_source(), "Invalid merge mode",
                      "one of {\"sum\", \"mul\", \"ave\", \"concat\", None}", *merge_mode_);
  }
  // A copy of `layer` through its config, with the changes Keras makes; zero_output_for_mask
  // follows return_sequences on both layers.
  const auto copy = [&](const RNN& layer, const std::string& name, bool go_backwards) {
    Config config = layer.get_config();
    config["name"] = name;
    config["go_backwards"] = go_backwards;
    config["zero_output_for_mask"] = layer.options().return_sequences;
    return recurrent_layer_from_config({{"class_name", layer.class_name()}, {"config", config}},
                                       error_source());
  };
  const RNN& layer = *args.layer;
  forward_ = copy(layer, "forward_" + without_prefix(layer.name(), "forward_"),
                  layer.options().go_backwards);
  backward_ = args.backward_layer
                  ? copy(*args.backward_layer, args.backward_layer->name(),
                         args.backward_layer->options().go_backwards)
                  // Keras names it after the layer given, not the forward copy: "lstm" gives
                  // "forward_lstm" and "backward_lstm".
                  : copy(layer, "backward_" + without_prefix(layer.name(), "backward_"), true);
  const RNNOptions& f = forward_->options();
  const RNNOptions& b = backward_->options();
  if (f.go_backwards == b.go_backwards) {
    throw_value_error(
        error_source(),
        "Forward layer and backward layer should have different `go_backwards` "
        "value",
        "go_backwards=" + std::string(f.go_backwards ? "False" : "True") + " in the backward layer",
        "go_backwards=" + std::string(b.go_backwards ? "True" : "False"));
  }
  for (const auto& [attribute, forward_value, backward_value] :
       {std::tuple{"stateful", f.stateful, b.stateful},
        std::tuple{"return_sequences", f.return_sequences, b.return_sequences},
        std::tuple{"return_state", f.return_state, b.return_state}}) {
    if (forward_value != backward_value) {
      throw_value_error(error_source(),
                        std::string("Forward layer and backward layer are expected to have the "
                                    "same value for attribute \"") +
                            attribute + "\"",
                        std::string(attribute) + "=" + (forward_value ? "True" : "False"),
                        std::string(attribute) + "=" + (backward_value ? "True" : "False"));
    }
  }
}

std::unique_ptr<Bidirectional> Bidirectional::from_config(const Config& config) {
  ConfigReader reader(config, {"Bidirectional", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  const ErrorSource source{"Bidirectional", args.name};
  const Config merge_mode = reader.get("merge_mode", "concat");
  if (!merge_mode.is_null() && !merge_mode.is_string()) {
    throw_value_error(source, "Invalid merge mode",
                      "one of {\"sum\", \"mul\", \"ave\", \"concat\", None}", merge_mode.dump());
  }
  args.merge_mode =
      merge_mode.is_null() ? std::nullopt : std::optional(merge_mode.get<std::string>());
  args.layer = recurrent_layer_from_config(reader.get("layer", nullptr), source);
  const Config backward = reader.get("backward_layer", nullptr);
  if (!backward.is_null()) args.backward_layer = recurrent_layer_from_config(backward, source);
  reader.check_all_read();
  return std::make_unique<Bidirectional>(std::move(args));
}

void Bidirectional::build(const Shape& sequences_shape) {
  build_once([&] { build_weights(sequences_shape); });
}

void Bidirectional::build_weights(const Shape& sequences_shape) {
  for (const RNN* inner : {forward_.get(), backward_.get()}) {
    for (RNN::WeightSpec& spec : inner->weight_specs(sequences_shape)) {
      add_weight(inner->name() + "/" + spec.name, spec.shape, spec.args);
    }
    if (inner->cell().use_bias) inner->finish_initial_bias(weights_for_update().back().value);
    if (inner == forward_.get()) forward_weight_count_ = weights().size();
  }
  input_shape_ = detail::shape_config(sequences_shape);
}

std::vector<const Tensor*> Bidirectional::inner_weights(size_t which) const {
  const size_t begin = which == 0 ? 0 : forward_weight_count_;
  const size_t end = which == 0 ? forward_weight_count_ : weights().size();
  std::vector<const Tensor*> values;
  for (size_t i = begin; i < end; ++i) values.push_back(&weights()[i].value);
  return values;
}

std::vector<Shape> Bidirectional::compute_output_shape(const Shape& sequences_shape) const {
  std::vector<Shape> inner = forward_->compute_output_shape(sequences_shape);
  Shape output = inner[0];
  std::vector<Shape> shapes;
  if (!merge_mode_) {
    shapes = {output, output};
  } else {
    if (*merge_mode_ == "concat") output.back() *= 2;
    shapes = {output};
  }
  for (int pass = 0; pass < 2; ++pass) shapes.insert(shapes.end(), inner.begin() + 1, inner.end());
  return shapes;
}

std::vector<Tensor> Bidirectional::merge(const Tensor& y, const Tensor& y_rev) const {
  if (!merge_mode_) return {y, y_rev};
  const Tensor f = y.contiguous(), b = y_rev.contiguous();
  const int64_t units = f.dim(-1), rows = f.size() / units;
  if (*merge_mode_ == "concat") {
    Shape shape = f.shape();
    shape.back() = 2 * units;
    Tensor out(shape);
    for (int64_t r = 0; r < rows; ++r) {
      std::copy_n(f.data() + r * units, units, out.data() + r * 2 * units);
      std::copy_n(b.data() + r * units, units, out.data() + r * 2 * units + units);
    }
    return {out};
  }
  Tensor out(f.shape());
  const float* x = f.data();
  const float* z = b.data();
  float* o = out.data();
  const int64_t n = f.size();
  if (*merge_mode_ == "sum") {
    for (int64_t i = 0; i < n; ++i) o[i] = x[i] + z[i];
  } else if (*merge_mode_ == "mul") {
    for (int64_t i = 0; i < n; ++i) o[i] = x[i] * z[i];
  } else {  // ave
    for (int64_t i = 0; i < n; ++i) o[i] = (x[i] + z[i]) / 2.0f;
  }
  return {out};
}

std::pair<RecurrentCallArgs, RecurrentCallArgs> Bidirectional::split_args(
    const RecurrentCallArgs& args) const {
  // Keras splits initial_state in halves: the forward layer's, then the backward layer's.
  const auto states = static_cast<size_t>(ops::recurrent_states(forward_->cell().kind));
  if (!args.initial_state.empty() && args.initial_state.size() != 2 * states) {
    throw_value_error(error_source(), "invalid call argument `initial_state`",
                      std::to_string(2 * states) + " tensors: the forward layer's " +
                          (states == 2 ? "[h, c]" : "[h]") + ", then the backward layer's",
                      std::to_string(args.initial_state.size()) + " tensor(s)");
  }
  const auto half = static_cast<std::ptrdiff_t>(args.initial_state.size() / 2);
  return {RecurrentCallArgs{
              .mask = args.mask,
              .initial_state = {args.initial_state.begin(), args.initial_state.begin() + half},
              .training = args.training},
          RecurrentCallArgs{
              .mask = args.mask,
              .initial_state = {args.initial_state.begin() + half, args.initial_state.end()},
              .training = args.training}};
}

std::vector<Tensor> Bidirectional::outputs_of(RecurrentOutput y, RecurrentOutput y_rev) const {
  const bool sequences_out = forward_->options().return_sequences;
  std::vector<Tensor> outputs =
      merge(y.output, sequences_out ? flip_time(y_rev.output) : y_rev.output);
  if (forward_->options().return_state) {
    for (RecurrentOutput* inner : {&y, &y_rev}) {
      for (Tensor& state : inner->states) outputs.push_back(std::move(state));
    }
  }
  return outputs;
}

std::vector<Tensor> Bidirectional::call(const Tensor& sequences,
                                        const RecurrentCallArgs& args) const {
  build_once([&] { const_cast<Bidirectional*>(this)->build_weights(sequences.shape()); });
  const auto [forward_args, backward_args] = split_args(args);
  const auto packed = std::static_pointer_cast<const PackedDirections>(
      derived_from_weights([&]() -> std::shared_ptr<const void> {
        return std::make_shared<const PackedDirections>(PackedDirections{
            forward_->pack_weights(inner_weights(0)), backward_->pack_weights(inner_weights(1))});
      }));
  return outputs_of(
      forward_->call_with(inner_weights(0), sequences, forward_args, packed->forward.get()),
      backward_->call_with(inner_weights(1), sequences, backward_args, packed->backward.get()));
}

Config Bidirectional::get_config() const {
  Config config = Layer::get_config();
  config["merge_mode"] = merge_mode_ ? Config(*merge_mode_) : Config(nullptr);
  config["layer"] = detail::serialized_layer(*forward_, input_shape_);
  config["backward_layer"] = detail::serialized_layer(*backward_, input_shape_);
  return config;
}

const std::vector<std::string>& Bidirectional::call_parameters() const {
  return forward_->call_parameters();
}

std::vector<KerasTensor> Bidirectional::compute_output_spec(const SymbolicArguments& arguments) {
  Config build_config = detail::recurrent_build_config(arguments, error_source());
  const Shape& sequences = arguments.tensor("sequences").shape();
  build(sequences);
  record_build_config(std::move(build_config));
  return detail::recurrent_outputs(compute_output_shape(sequences), passed_masks(), arguments);
}

std::vector<ValuePtr> Bidirectional::call_node(const ValueArguments& arguments,
                                               const RunContext& context) const {
  const RecurrentCallArgs args = detail::recurrent_call_args(arguments, context, error_source());
  return node_outputs(
      call(detail::float_input(*arguments.tensor("sequences"), error_source(), "sequences"), args),
      arguments);
}

std::vector<ValuePtr> Bidirectional::node_outputs(std::vector<Tensor> results,
                                                  const ValueArguments& arguments) const {
  const std::optional<Mask> mask =
      passed_masks() > 0 ? detail::previous_mask(arguments, error_source()) : std::nullopt;
  std::vector<ValuePtr> outputs;
  for (size_t k = 0; k < results.size(); ++k) {
    outputs.push_back(make_value(std::move(results[k]), k < passed_masks() ? mask : std::nullopt));
  }
  return outputs;
}

namespace {

// Both directions' training calls.
struct BidirectionalForward {
  RecurrentForward forward;
  RecurrentForward backward;
};

}  // namespace

OperationForward Bidirectional::forward_node(const ValueArguments& arguments,
                                             const RunContext& context) const {
  const RecurrentCallArgs args = detail::recurrent_call_args(arguments, context, error_source());
  const Tensor& sequences =
      detail::float_input(*arguments.tensor("sequences"), error_source(), "sequences");
  build_once([&] { const_cast<Bidirectional*>(this)->build_weights(sequences.shape()); });
  const auto [forward_args, backward_args] = split_args(args);
  BidirectionalForward calls{forward_->forward_with(inner_weights(0), sequences, forward_args),
                             backward_->forward_with(inner_weights(1), sequences, backward_args)};
  std::vector<ValuePtr> outputs =
      node_outputs(outputs_of(calls.forward.result, calls.backward.result), arguments);
  return {std::move(outputs), detail::save_call(*this, std::move(calls))};
}

ValueGradients Bidirectional::backward_node(const ValueArguments& arguments,
                                            const BackwardPass& pass) const {
  const BidirectionalForward& calls =
      detail::saved_call<BidirectionalForward>(*this, pass.forward, error_source());
  const Tensor& y = calls.forward.result.output;
  const bool sequences_out = forward_->options().return_sequences;
  const Tensor y_rev =
      sequences_out ? flip_time(calls.backward.result.output) : calls.backward.result.output;
  // The merge's backward: d of each direction's output (the backward one in time order).
  std::optional<Tensor> d_y, d_y_rev;
  size_t next = 1;
  if (!merge_mode_) {
    if (const Tensor* d = detail::output_gradient(pass.d_outputs, 0)) d_y = d->contiguous();
    if (const Tensor* d = detail::output_gradient(pass.d_outputs, 1)) d_y_rev = d->contiguous();
    next = 2;
  } else if (const Tensor* d_merged = detail::output_gradient(pass.d_outputs, 0)) {
    const Tensor d = d_merged->contiguous();
    const Tensor f = y.contiguous(), b = y_rev.contiguous();
    const int64_t units = f.dim(-1), rows = f.size() / units;
    d_y = Tensor(f.shape());
    d_y_rev = Tensor(f.shape());
    float* df = d_y->data();
    float* db = d_y_rev->data();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < units; ++j) {
        const int64_t k = r * units + j;
        if (*merge_mode_ == "concat") {
          df[k] = d.data()[r * 2 * units + j];
          db[k] = d.data()[r * 2 * units + units + j];
        } else if (*merge_mode_ == "sum") {
          df[k] = db[k] = d.data()[k];
        } else if (*merge_mode_ == "mul") {
          df[k] = d.data()[k] * b.data()[k];
          db[k] = d.data()[k] * f.data()[k];
        } else {  // ave
          df[k] = db[k] = d.data()[k] / 2.0f;
        }
      }
    }
  }
  if (d_y_rev && sequences_out) d_y_rev = flip_time(*d_y_rev);
  std::vector<const Tensor*> d_forward_states, d_backward_states;
  if (forward_->options().return_state) {
    for (size_t k = 0; k < calls.forward.result.states.size(); ++k) {
      d_forward_states.push_back(detail::output_gradient(pass.d_outputs, next++));
    }
    for (size_t k = 0; k < calls.backward.result.states.size(); ++k) {
      d_backward_states.push_back(detail::output_gradient(pass.d_outputs, next++));
    }
  }
  std::span<Tensor> gradients(pass.weight_gradients);
  RecurrentInputGradients forward_grads =
      forward_->backward_with(inner_weights(0), calls.forward, d_y ? &*d_y : nullptr,
                              d_forward_states, gradients.subspan(0, forward_weight_count_));
  RecurrentInputGradients backward_grads =
      backward_->backward_with(inner_weights(1), calls.backward, d_y_rev ? &*d_y_rev : nullptr,
                               d_backward_states, gradients.subspan(forward_weight_count_));
  Tensor d_sequences = forward_grads.sequences;
  for (int64_t i = 0; i < d_sequences.size(); ++i) {
    d_sequences.data()[i] += backward_grads.sequences.data()[i];
  }
  ValueGradients result{{arguments.tensor("sequences"), std::move(d_sequences)}};
  std::vector<Tensor> d_initial = std::move(forward_grads.initial_state);
  for (Tensor& d : backward_grads.initial_state) d_initial.push_back(std::move(d));
  size_t k = 0;
  for (const std::optional<ValuePtr>& state : arguments.tensor_list("initial_state")) {
    if (state && k < d_initial.size()) result.emplace_back(*state, std::move(d_initial[k++]));
  }
  return result;
}

void Bidirectional::follow_keras_version(const KerasVersion& version) {
  passes_mask_ = version < KerasVersion{3, 16, 0};
  masks_first_argument_ = version.major < 3;
}

size_t Bidirectional::passed_masks() const {
  if (!passes_mask_ || !forward_->options().return_sequences) return 0;
  return merge_mode_ ? 1 : 2;
}

WeightLayout Bidirectional::weight_layout() const {
  WeightLayout layout;
  layout.groups.emplace_back("vars", name());
  for (const auto& [prefix, inner] : {std::pair{"forward_layer/", forward_.get()},
                                      std::pair{"backward_layer/", backward_.get()}}) {
    const WeightLayout inner_layout = inner->weight_layout();
    for (const std::string& dataset : inner_layout.datasets)
      layout.datasets.push_back(prefix + dataset);
    for (const auto& [group, group_name] : inner_layout.groups) {
      layout.groups.emplace_back(prefix + group, group_name);
    }
  }
  return layout;
}

}  // namespace kattn
