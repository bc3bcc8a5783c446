#include "kattn/core/layer.hpp"

#include <algorithm>

#include "core/node_inputs.hpp"
#include "core/weight_budget.hpp"

namespace kattn {

Layer::Layer(std::string class_name, LayerArgs args)
    : Operation(class_name,
                args.name.empty() ? detail::unique_name(layer_snake_name(class_name)) : args.name),
      args_(std::move(args)) {
  args_.name = name();
  check_operation_name(error_source(), args_.name);
}

Config Layer::get_config() const { return layer_args_config(args_); }

std::string Layer::module() const { return "keras.layers"; }

void Layer::record_build_config(Config build_config) {
  if (build_config_.is_null()) build_config_ = std::move(build_config);
}

std::string Layer::weight_path(const Variable& variable) const {
  return args_.name + "/" + variable.name;
}

Variable& Layer::find_weight(std::string_view name) {
  for (Variable& variable : weights_) {
    if (variable.name == name || weight_path(variable) == name) return variable;
  }
  std::string known;
  for (const Variable& variable : weights_) {
    known += (known.empty() ? "" : ", ") + variable.name;
  }
  throw_value_error(error_source(), "no weight of that name",
                    known.empty() ? std::string("no weights: the layer has none") +
                                        (built() ? "" : " until it is built")
                                  : "one of: " + known,
                    "name=" + std::string(name));
}

const Tensor& Layer::weight(std::string_view name) const {
  return const_cast<Layer*>(this)->find_weight(name).value;
}

void Layer::set_weight(std::string_view name, const Tensor& value) {
  Variable& variable = find_weight(name);
  if (value.shape() != variable.value.shape()) {
    throw_value_error(error_source(), "wrong shape for weight `" + variable.name + "`",
                      "shape " + shape_to_string(variable.value.shape()),
                      "shape=" + shape_to_string(value.shape()));
  }
  variable.value = value.clone();
  forget_derived();
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> values;
  for (const Variable& variable : weights_) values.push_back(variable.value.clone());
  return values;
}

void Layer::set_weights(const std::vector<Tensor>& values) {
  if (values.size() != weights_.size()) {
    throw_value_error(error_source(), "wrong number of weights",
                      std::to_string(weights_.size()) + " weights",
                      std::to_string(values.size()) + " weights");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].shape() != weights_[i].value.shape()) {
      throw_value_error(error_source(), "wrong shape for weight `" + weights_[i].name + "`",
                        "shape " + shape_to_string(weights_[i].value.shape()),
                        "shape=" + shape_to_string(values[i].shape()));
    }
  }
  for (size_t i = 0; i < values.size(); ++i) weights_[i].value = values[i].clone();
  forget_derived();
}

Config Layer::activity_regularizer() const {
  const Config config = get_config();
  const auto found = config.find("activity_regularizer");
  return found == config.end() ? Config(nullptr) : *found;
}

std::vector<Variable>& Layer::weights_for_update() {
  forget_derived();
  return weights_;
}

void Layer::assign_state(size_t index, Tensor value) const {
  // A call's state change, as Keras assigns its variables inside call(): the one place a const
  // call writes a weight.
  Variable& variable = const_cast<Layer*>(this)->weights_for_update().at(index);
  if (variable.trainable || value.shape() != variable.value.shape()) {
    throw_value_error(error_source(), "cannot assign weight '" + variable.name + "'",
                      "a non-trainable weight of shape " + shape_to_string(variable.value.shape()),
                      "a value of shape " + shape_to_string(value.shape()));
  }
  variable.value = std::move(value);
}

std::vector<Tensor> Layer::zero_gradients() const {
  std::vector<Tensor> gradients;
  for (const Variable& variable : weights_) gradients.emplace_back(variable.value.shape());
  return gradients;
}

void Layer::check_gradient_buffers(const std::vector<Tensor>& gradients) const {
  if (gradients.size() != weights_.size()) {
    throw_value_error(error_source(), "wrong number of weight gradient buffers",
                      std::to_string(weights_.size()) + " (one per weight, see zero_gradients)",
                      std::to_string(gradients.size()) + " buffers");
  }
  for (size_t i = 0; i < gradients.size(); ++i) {
    if (gradients[i].shape() != weights_[i].value.shape() || !gradients[i].is_contiguous()) {
      throw_value_error(
          error_source(), "wrong gradient buffer for weight `" + weights_[i].name + "`",
          "a contiguous tensor of shape " + shape_to_string(weights_[i].value.shape()),
          "shape=" + shape_to_string(gradients[i].shape()) +
              (gradients[i].is_contiguous() ? "" : " (a strided view)"));
    }
  }
}

std::shared_ptr<const void> Layer::derived_from_weights(
    const std::function<std::shared_ptr<const void>()>& make) const {
  const std::lock_guard<std::mutex> lock(*derived_mutex_);
  if (!derived_) derived_ = make();
  return derived_;
}

void Layer::forget_derived() {
  const std::lock_guard<std::mutex> lock(*derived_mutex_);
  derived_.reset();
}

void Layer::add_weight(std::string name, const Shape& shape, const Initializer& initializer,
                       bool trainable) {
  const bool loaded = detail::WeightBudget::spend(error_source(), name, shape);
  weights_.push_back(
      Variable{std::move(name), loaded ? Tensor(shape) : initializer(shape), trainable});
}

void Layer::add_weight(std::string name, const Shape& shape, const WeightArgs& args) {
  add_weight(std::move(name), shape, *args.initializer);
  weights_.back().regularizer = args.regularizer;
  weights_.back().constraint = args.constraint;
}

void Layer::build_once(const std::function<void()>& build) const {
  if (built()) return;
  const std::lock_guard<std::mutex> lock(*build_mutex_);
  if (built()) return;
  build();
  built_->store(true, std::memory_order_release);
}

}  // namespace kattn
