// keras.layers.TimeDistributed: the wrapped layer's copy, build, the folded call and its
// backward.
#include "kattn/layers/time_distributed.hpp"

#include <utility>

#include "core/node_inputs.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/recurrent_node.hpp"

namespace kattn {

namespace {

// (B, T, ...) -> (B * T, ...).
template <typename T>
BasicTensor<T> fold_steps(const BasicTensor<T>& x) {
  Shape shape(x.shape().begin() + 1, x.shape().end());
  shape[0] = x.dim(0) * x.dim(1);
  return x.contiguous().reshape(std::move(shape));
}

// (B * T, ...) -> (B, T, ...).
Tensor unfold_steps(const Tensor& y, int64_t batch, int64_t steps) {
  Shape shape{batch, steps};
  shape.insert(shape.end(), y.shape().begin() + 1, y.shape().end());
  return y.contiguous().reshape(std::move(shape));
}

struct TimeDistributedSaved : detail::SavedForBackward {
  std::shared_ptr<const UnaryLayer> inner;  // the layer that ran
  LayerForward inner_forward;
  Shape input_shape;
};

}  // namespace

TimeDistributed::TimeDistributed(Args args)
    : UnaryLayer("TimeDistributed", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kDrop, BuildRecord::kRecorded) {
  if (!args.layer) {
    throw_value_error(error_source(),
                      "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                      "instance",
                      "a layer", "None");
  }
  layer_ = std::move(args.layer);
}

std::unique_ptr<TimeDistributed> TimeDistributed::from_config(
    const Config& config, const LayerDeserializer& deserialize) {
  ConfigReader reader(config, {"TimeDistributed", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  const Config layer = reader.get("layer", nullptr);
  if (!layer.is_null()) {
    std::shared_ptr<Operation> operation = deserialize(layer);
    args.layer = std::dynamic_pointer_cast<UnaryLayer>(operation);
    if (!args.layer) {
      throw NotSupportedError(error_message(
          {"TimeDistributed", args.name}, "unsupported wrapped layer",
          "a layer called on one tensor (Dense, EinsumDense, Conv1D, Activation, ...)",
          "layer=" + operation->class_name()));
    }
  }
  reader.check_all_read();
  return std::make_unique<TimeDistributed>(std::move(args));
}

Shape TimeDistributed::child_input_shape(const Shape& input_shape) const {
  if (input_shape.size() < 3) {
    throw_value_error(error_source(),
                      "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                      "dimensions",
                      "inputs of rank >= 3 (batch, time, ...)",
                      "shape=" + detail::keras_shape(input_shape));
  }
  Shape child(input_shape.begin() + 1, input_shape.end());
  child[0] = input_shape[0];
  return child;
}

void TimeDistributed::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void TimeDistributed::build_weights(const Shape& input_shape) {
  child_shape_ = child_input_shape(input_shape);
  layer_->build(child_shape_);
  for (const Variable& inner : layer_->weights()) {
    add_weight(layer_->name() + "/" + inner.name, inner.value.shape(),
               WeightArgs{.initializer = Initializer::zeros(),
                          .regularizer = inner.regularizer,
                          .constraint = inner.constraint});
    Variable& variable = weights_for_update().back();
    variable.value = inner.value.clone();
    variable.trainable = inner.trainable;
  }
}

std::shared_ptr<const UnaryLayer> TimeDistributed::current_layer() const {
  return std::static_pointer_cast<const UnaryLayer>(
      derived_from_weights([&]() -> std::shared_ptr<const void> {
        layer_->set_weights(get_weights());
        return layer_;
      }));
}

Shape TimeDistributed::compute_output_shape(const Shape& input_shape) const {
  const Shape child = layer_->compute_output_shape(child_input_shape(input_shape));
  Shape shape{child[0], input_shape[1]};
  shape.insert(shape.end(), child.begin() + 1, child.end());
  return shape;
}

void TimeDistributed::check_mask(const Tensor& inputs, const std::optional<Mask>& mask) const {
  if (!mask) return;
  const Shape& shape = mask->shape();
  if (shape.size() < 2 || shape[0] != inputs.dim(0) || shape[1] != inputs.dim(1)) {
    throw_value_error(error_source(),
                      "The `mask` passed to the `TimeDistributed` layer must be at least 2D and "
                      "its first two dimensions (batch size and timesteps) must match the "
                      "input's",
                      "a mask of shape (" + std::to_string(inputs.dim(0)) + ", " +
                          std::to_string(inputs.dim(1)) + ", ...)",
                      "shape=" + detail::keras_shape(shape));
  }
}

Tensor TimeDistributed::call(const Tensor& inputs) const { return forward(inputs).output; }

LayerForward TimeDistributed::forward(const Tensor& inputs) const {
  return forward_masked(inputs, std::nullopt);
}

Tensor TimeDistributed::call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const {
  return forward_masked(inputs, mask).output;
}

LayerForward TimeDistributed::forward_masked(const Tensor& inputs,
                                             const std::optional<Mask>& mask) const {
  child_input_shape(inputs.shape());
  build_once([&] { const_cast<TimeDistributed*>(this)->build_weights(inputs.shape()); });
  check_mask(inputs, mask);
  auto saved = std::make_shared<TimeDistributedSaved>();
  saved->layer = this;
  saved->inner = current_layer();
  saved->input_shape = inputs.shape();
  const Tensor steps = fold_steps(inputs);
  saved->inner_forward = mask && saved->inner->call_takes_mask()
                             ? saved->inner->forward_masked(steps, fold_steps(*mask))
                             : saved->inner->forward(steps);
  Tensor output = unfold_steps(saved->inner_forward.output, inputs.dim(0), inputs.dim(1));
  return {std::move(output), std::move(saved)};
}

Tensor TimeDistributed::backward(const LayerForward& forward, const Tensor& d_output,
                                 std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<TimeDistributedSaved>(*this, forward, d_output, weight_gradients);
  const Tensor d_steps =
      saved.inner->backward(saved.inner_forward, fold_steps(d_output), weight_gradients);
  return d_steps.contiguous().reshape(saved.input_shape);
}

std::optional<Mask> TimeDistributed::compute_mask(const Tensor& /*inputs*/,
                                                  const std::optional<Mask>& mask) const {
  return passes_mask_ ? mask : std::nullopt;
}

std::optional<KerasTensor> TimeDistributed::compute_mask(
    const KerasTensor& /*inputs*/, const std::optional<KerasTensor>& mask) const {
  return passes_mask_ ? mask : std::nullopt;
}

Config TimeDistributed::get_config() const {
  Config config = Layer::get_config();
  // Keras writes the inner layer's build_config only for the classes not built in __init__.
  config["layer"] = detail::serialized_layer(*layer_, built() && layer_->records_build_config()
                                                          ? detail::shape_config(child_shape_)
                                                          : Config(nullptr));
  return config;
}

WeightLayout TimeDistributed::weight_layout() const {
  WeightLayout layout;
  layout.groups.emplace_back("vars", name());
  const WeightLayout inner = layer_->weight_layout();
  for (const std::string& dataset : inner.datasets) layout.datasets.push_back("layer/" + dataset);
  for (const auto& [group, group_name] : inner.groups) {
    layout.groups.emplace_back("layer/" + group, group_name);
  }
  return layout;
}

void TimeDistributed::follow_keras_version(const KerasVersion& version) {
  passes_mask_ = version < KerasVersion{3, 16, 0};
  layer_->follow_keras_version(version);
}

}  // namespace kattn
