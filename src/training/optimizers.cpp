#include "kattn/training/optimizers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>

#include "core/argument_checks.hpp"

namespace kattn {
namespace {

using detail::python_float;

constexpr ErrorSource kOptimizerSource{"Optimizer", ""};

std::string optional_text(const std::optional<double>& value) {
  return value ? python_float(*value) : "None";
}

std::string optional_text(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : "None";
}

// "[i]", built by appending (GCC 12 reports a false -Wrestrict on "[" + std::string).
std::string bracketed(size_t i) {
  std::string text = "[";
  text += std::to_string(i);
  text += "]";
  return text;
}

// jnp.maximum / jnp.minimum: NaN in either operand gives NaN.
float nan_max(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
float nan_min(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

// The sum of squares of a gradient, rounded to float32 as Keras's ops.sum(ops.square(g)) is.
float squared_norm(const std::vector<float>& values) {
  double sum = 0.0;
  for (float v : values) sum += static_cast<double>(v) * static_cast<double>(v);
  return static_cast<float>(sum);
}

std::optional<double> read_optional_number(ConfigReader& reader, std::string_view key) {
  const Config value = reader.get(key, nullptr);
  if (value.is_null()) return std::nullopt;
  if (!value.is_number()) reader.fail(key, "a number or null");
  return value.get<double>();
}

std::optional<int64_t> read_optional_int(ConfigReader& reader, std::string_view key) {
  if (reader.get(key, nullptr).is_null()) return std::nullopt;
  return reader.get_int(key, 0);
}

// The keys of BaseOptimizer.get_config, read as BaseOptimizer.__init__ takes them.
struct BaseConfig {
  std::string name;
  double learning_rate = 0.0;
  std::optional<double> weight_decay;
  OptimizerArgs base;
};

BaseConfig read_base_config(ConfigReader& reader, std::string_view class_name,
                            std::string_view default_name, double default_learning_rate,
                            std::optional<double> default_weight_decay) {
  BaseConfig out;
  const Config name = reader.get("name", std::string(default_name));
  if (name.is_null()) {
    // BaseOptimizer.__init__: a None name becomes auto_name(class name).
    out.name = to_snake_case(class_name);
  } else if (name.is_string()) {
    out.name = name.get<std::string>();
  } else {
    reader.fail("name", "a string");
  }
  const Config learning_rate = reader.get("learning_rate", default_learning_rate);
  if (learning_rate.is_object()) {
    throw NotSupportedError(
        error_message(reader.source(), "learning-rate schedules are not supported",
                      "a float learning_rate", "learning_rate=" + learning_rate.dump()));
  }
  if (!learning_rate.is_number()) reader.fail("learning_rate", "a float");
  out.learning_rate = learning_rate.get<double>();
  // A missing key takes the constructor's default; an explicit null is Python's None.
  out.weight_decay = reader.has("weight_decay") ? read_optional_number(reader, "weight_decay")
                                                : default_weight_decay;
  out.base.clipnorm = read_optional_number(reader, "clipnorm");
  out.base.clipvalue = read_optional_number(reader, "clipvalue");
  out.base.global_clipnorm = read_optional_number(reader, "global_clipnorm");
  out.base.use_ema = reader.get_bool("use_ema", false);
  out.base.ema_momentum = reader.get_number("ema_momentum", 0.99);
  out.base.ema_overwrite_frequency = read_optional_int(reader, "ema_overwrite_frequency");
  out.base.loss_scale_factor = read_optional_number(reader, "loss_scale_factor");
  out.base.gradient_accumulation_steps = read_optional_int(reader, "gradient_accumulation_steps");
  // BaseOptimizer.__init__ pops `decay` and ignores it (with a warning).
  reader.get("decay", nullptr);
  return out;
}

// The base keys into an optimizer's Args, whose learning_rate, weight_decay and name are the
// defaults.
template <typename Args>
void read_optimizer_args(ConfigReader& reader, Args& args) {
  BaseConfig base = read_base_config(reader, reader.source().class_name, args.name,
                                     args.learning_rate, args.weight_decay);
  args.learning_rate = base.learning_rate;
  args.weight_decay = base.weight_decay;
  args.base = base.base;
  args.name = std::move(base.name);
}

Config config_value(const std::optional<double>& value) {
  return value ? Config(*value) : Config(nullptr);
}

Config config_value(const std::optional<int64_t>& value) {
  return value ? Config(*value) : Config(nullptr);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Optimizer

Optimizer::Optimizer(std::string class_name, std::string name, double learning_rate,
                     std::optional<double> weight_decay, OptimizerArgs args)
    : class_name_(std::move(class_name)),
      name_(std::move(name)),
      learning_rate_(static_cast<float>(learning_rate)),
      weight_decay_(weight_decay),
      args_(args) {
  // BaseOptimizer.__init__'s checks, in its order; Keras treats 0 like None for
  // gradient_accumulation_steps and ema_overwrite_frequency (`if value:`).
  const auto& steps = args_.gradient_accumulation_steps;
  if (steps && *steps != 0 && *steps < 2) {
    throw_value_error(error_source(), "`gradient_accumulation_steps` must be an integer >= 2",
                      "an integer >= 2 or None",
                      "gradient_accumulation_steps=" + optional_text(steps));
  }
  if (args_.use_ema) {
    if (args_.ema_momentum > 1 || args_.ema_momentum < 0) {
      throw_value_error(error_source(), "`ema_momentum` must be in the range [0, 1]",
                        "0 <= ema_momentum <= 1",
                        "ema_momentum=" + python_float(args_.ema_momentum));
    }
    const auto& frequency = args_.ema_overwrite_frequency;
    if (frequency && *frequency != 0 && *frequency < 1) {
      throw_value_error(error_source(), "`ema_overwrite_frequency` must be an integer >= 1 or None",
                        "an integer >= 1 or None",
                        "ema_overwrite_frequency=" + optional_text(frequency));
    }
  }
  const int clip_args =
      (args_.clipnorm ? 1 : 0) + (args_.clipvalue ? 1 : 0) + (args_.global_clipnorm ? 1 : 0);
  if (clip_args > 1) {
    throw_value_error(error_source(),
                      "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set",
                      "at most one of them set",
                      "clipnorm=" + optional_text(args_.clipnorm) +
                          ", clipvalue=" + optional_text(args_.clipvalue) +
                          ", global_clipnorm=" + optional_text(args_.global_clipnorm));
  }
  if (steps && *steps != 0) {
    throw NotSupportedError(error_message(error_source(), "gradient accumulation is not supported",
                                          "gradient_accumulation_steps=None",
                                          "gradient_accumulation_steps=" + optional_text(steps)));
  }
  if (args_.use_ema) {
    throw NotSupportedError(error_message(error_source(),
                                          "a moving average of the variables is not supported",
                                          "use_ema=False", "use_ema=True"));
  }
}

void Optimizer::set_learning_rate(double learning_rate) {
  learning_rate_ = static_cast<float>(learning_rate);
}

void Optimizer::exclude_from_weight_decay(std::vector<int64_t> positions) {
  if (built_) {
    throw_value_error(error_source(),
                      "`exclude_from_weight_decay()` can only be configured before the optimizer "
                      "is built",
                      "a call before the first apply_gradients",
                      "iterations=" + std::to_string(iterations_));
  }
  excluded_ = std::move(positions);
}

void Optimizer::apply_gradients(const std::vector<std::pair<Tensor, Tensor*>>& grads_and_vars) {
  std::vector<Tensor*> variables;
  std::vector<Tensor> gradients;
  variables.reserve(grads_and_vars.size());
  gradients.reserve(grads_and_vars.size());
  for (const auto& [gradient, variable] : grads_and_vars) {
    gradients.push_back(gradient);
    variables.push_back(variable);
  }
  apply_gradients(variables, gradients);
}

void Optimizer::apply_gradients(const std::vector<Tensor*>& variables,
                                const std::vector<Tensor>& gradients) {
  if (variables.size() != gradients.size()) {
    throw_value_error(error_source(), "apply_gradients needs one gradient per variable",
                      "len(gradients) == len(variables)",
                      "len(variables)=" + std::to_string(variables.size()) +
                          ", len(gradients)=" + std::to_string(gradients.size()));
  }
  if (variables.empty()) return;  // BaseOptimizer.apply: no gradients, no step
  for (size_t i = 0; i < variables.size(); ++i) {
    const std::string index = bracketed(i);
    if (variables[i] == nullptr) {
      throw_value_error(error_source(), "variables" + index + " is null",
                        "a pointer to the float32 tensor to update", "variables" + index + "=null");
    }
    if (!variables[i]->is_contiguous()) {
      throw_value_error(
          error_source(), "variables" + index + " is updated in place and must be contiguous",
          "a contiguous tensor",
          "variables" + index + ".strides=" + shape_to_string(variables[i]->strides()));
    }
    if (gradients[i].shape() != variables[i]->shape()) {
      throw_value_error(error_source(),
                        "gradients" + index + " does not match its variable's shape",
                        "gradients" + index + ".shape == variables" + index +
                            ".shape == " + shape_to_string(variables[i]->shape()),
                        "gradients" + index + ".shape=" + shape_to_string(gradients[i].shape()));
    }
  }
  if (built_) {
    // Keras keys slots by variable identity; kattn keys them by position, so the list must keep
    // its length and shapes.
    if (variables.size() != shapes_.size()) {
      throw_value_error(
          error_source(),
          "the optimizer was built for another list of variables; create a new "
          "optimizer for a new set of variables",
          std::to_string(shapes_.size()) + " variables, in the order of the first call",
          "len(variables)=" + std::to_string(variables.size()));
    }
    for (size_t i = 0; i < variables.size(); ++i) {
      if (variables[i]->shape() != shapes_[i]) {
        const std::string index = bracketed(i);
        throw_value_error(error_source(),
                          "variables" + index + " changed shape since the optimizer was built",
                          "shape " + shape_to_string(shapes_[i]) + ", as on the first call",
                          "variables" + index + ".shape=" + shape_to_string(variables[i]->shape()));
      }
    }
  } else {
    const auto count = static_cast<int64_t>(variables.size());
    for (int64_t position : excluded_) {
      if (position < 0 || position >= count) {
        throw_value_error(error_source(), "a position excluded from weight decay names no variable",
                          "positions in [0, " + std::to_string(count) + ")",
                          "position=" + std::to_string(position));
      }
    }
    std::vector<Shape> shapes;
    shapes.reserve(variables.size());
    for (const Tensor* variable : variables) shapes.push_back(variable->shape());
    build(shapes);
  }

  std::vector<std::vector<float>> grads;
  grads.reserve(gradients.size());
  for (const Tensor& gradient : gradients) grads.push_back(gradient.to_vector());
  if (args_.loss_scale_factor) {
    const auto scale = static_cast<float>(*args_.loss_scale_factor);
    for (auto& g : grads) {
      for (float& v : g) v = v / scale;
    }
  }
  clip(grads);
  if (weight_decay_) {
    // _apply_weight_decay: variable - variable * wd * lr, in the variable's float32.
    const auto wd = static_cast<float>(*weight_decay_);
    const float lr = learning_rate_;
    for (size_t i = 0; i < variables.size(); ++i) {
      if (std::find(excluded_.begin(), excluded_.end(), static_cast<int64_t>(i)) !=
          excluded_.end()) {
        continue;
      }
      float* data = variables[i]->data();
      const int64_t size = variables[i]->size();
      for (int64_t k = 0; k < size; ++k) data[k] = data[k] - data[k] * wd * lr;
    }
  }
  for (size_t i = 0; i < variables.size(); ++i) {
    const std::span<float> variable(variables[i]->data(),
                                    static_cast<size_t>(variables[i]->size()));
    update_step(i, grads[i], variable, learning_rate_);
  }
  ++iterations_;
}

void Optimizer::build(const std::vector<Shape>& shapes) {
  if (built_) {
    throw_value_error(error_source(), "the optimizer is built already",
                      "build() once, before the first apply_gradients",
                      "a built optimizer of " + std::to_string(shapes_.size()) + " variables");
  }
  create_slots(shapes);
  shapes_ = shapes;
  built_ = true;
}

std::vector<Tensor> Optimizer::slot_variables() const {
  std::vector<Tensor> copies;
  for (Tensor* slot : const_cast<Optimizer*>(this)->slots()) copies.push_back(slot->clone());
  return copies;
}

std::vector<Shape> Optimizer::slot_shapes() const {
  std::vector<Shape> shapes;
  for (Tensor* slot : const_cast<Optimizer*>(this)->slots()) shapes.push_back(slot->shape());
  return shapes;
}

void Optimizer::load_variables(int64_t iterations, double learning_rate,
                               const std::vector<Tensor>& slots) {
  if (!built_) {
    throw_value_error(error_source(), "cannot load the variables of an optimizer that is not built",
                      "build() first", "an optimizer that is not built");
  }
  const std::vector<Tensor*> targets = this->slots();
  if (slots.size() != targets.size()) {
    throw_value_error(error_source(), "wrong number of optimizer slots",
                      std::to_string(targets.size()) + " slots",
                      std::to_string(slots.size()) + " slots");
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].shape() != targets[i]->shape()) {
      throw_value_error(error_source(), "slot" + bracketed(i) + " has another shape",
                        "shape " + shape_to_string(targets[i]->shape()),
                        "shape " + shape_to_string(slots[i].shape()));
    }
  }
  if (iterations < 0) {
    throw_value_error(error_source(), "invalid iteration count", "iterations >= 0",
                      "iterations=" + std::to_string(iterations));
  }
  for (size_t i = 0; i < slots.size(); ++i) *targets[i] = slots[i].contiguous().clone();
  iterations_ = iterations;
  set_learning_rate(learning_rate);
}

std::vector<Tensor> Optimizer::clip_gradients(const std::vector<Tensor>& gradients) const {
  std::vector<std::vector<float>> grads;
  grads.reserve(gradients.size());
  for (const Tensor& gradient : gradients) grads.push_back(gradient.to_vector());
  clip(grads);
  std::vector<Tensor> out;
  out.reserve(gradients.size());
  for (size_t i = 0; i < gradients.size(); ++i) {
    out.emplace_back(gradients[i].shape(), std::span<const float>(grads[i]));
  }
  return out;
}

void Optimizer::clip(std::vector<std::vector<float>>& gradients) const {
  if (args_.clipnorm && *args_.clipnorm > 0) {
    // _clip_by_norm: g * clipnorm / max(l2norm, clipnorm), with l2norm 0 for an all-zero g.
    const auto clipnorm = static_cast<float>(*args_.clipnorm);
    for (auto& g : gradients) {
      const float l2sum = squared_norm(g);
      const float l2norm = l2sum > 0 ? std::sqrt(l2sum) : l2sum;
      const float divisor = nan_max(l2norm, clipnorm);
      for (float& v : g) v = v * clipnorm / divisor;
    }
  } else if (args_.global_clipnorm && *args_.global_clipnorm > 0) {
    // clip_by_global_norm: scale = clip_norm * min(1 / norm, 1 / clip_norm), made NaN by an
    // infinite or NaN norm through (norm - norm).
    float sum = 0.0f;
    for (const auto& g : gradients) sum += squared_norm(g);
    const float norm = std::sqrt(sum);
    const auto clip_norm = static_cast<float>(*args_.global_clipnorm);
    const auto inverse_clip = static_cast<float>(1.0 / *args_.global_clipnorm);
    const float scale = clip_norm * nan_min(1.0f / norm, inverse_clip) + (norm - norm);
    for (auto& g : gradients) {
      for (float& v : g) v = v * scale;
    }
  } else if (args_.clipvalue && *args_.clipvalue > 0) {
    const auto limit = static_cast<float>(*args_.clipvalue);
    for (auto& g : gradients) {
      for (float& v : g) v = nan_min(nan_max(v, -limit), limit);
    }
  }
}

Config Optimizer::get_config() const {
  return Config{
      {"name", name_},
      // float(self._learning_rate.numpy()): the float32 variable's value.
      {"learning_rate", static_cast<double>(learning_rate_)},
      {"weight_decay", config_value(weight_decay_)},
      {"clipnorm", config_value(args_.clipnorm)},
      {"global_clipnorm", config_value(args_.global_clipnorm)},
      {"clipvalue", config_value(args_.clipvalue)},
      {"use_ema", args_.use_ema},
      {"ema_momentum", args_.ema_momentum},
      {"ema_overwrite_frequency", config_value(args_.ema_overwrite_frequency)},
      {"loss_scale_factor", config_value(args_.loss_scale_factor)},
      {"gradient_accumulation_steps", config_value(args_.gradient_accumulation_steps)},
  };
}

// ---------------------------------------------------------------------------------------------
// SGD

SGD::SGD() : SGD(Args{}) {}

SGD::SGD(Args args)
    : Optimizer("SGD", std::move(args.name), args.learning_rate, args.weight_decay, args.base),
      momentum_(args.momentum),
      nesterov_(args.nesterov) {
  if (momentum_ < 0 || momentum_ > 1) {
    throw_value_error(error_source(), "`momentum` must be a float between [0, 1]",
                      "0 <= momentum <= 1", "momentum=" + python_float(momentum_));
  }
}

std::unique_ptr<SGD> SGD::from_config(const Config& config) {
  ConfigReader reader(config, {"SGD", config_layer_name(config)});
  Args args;
  read_optimizer_args(reader, args);
  args.momentum = reader.get_number("momentum", 0.0);
  args.nesterov = reader.get_bool("nesterov", false);
  reader.check_all_read();
  return std::make_unique<SGD>(std::move(args));
}

Config SGD::get_config() const {
  Config config = Optimizer::get_config();
  config["momentum"] = momentum_;
  config["nesterov"] = nesterov_;
  return config;
}

void SGD::create_slots(const std::vector<Shape>& shapes) {
  momentums_.clear();
  if (momentum_ == 0) return;
  for (const Shape& shape : shapes) momentums_.emplace_back(shape);
}

std::vector<Tensor*> SGD::slots() {
  std::vector<Tensor*> out;
  for (Tensor& momentum : momentums_) out.push_back(&momentum);
  return out;
}

void SGD::update_step(size_t index, std::span<const float> gradient, std::span<float> variable,
                      float learning_rate) {
  const size_t size = variable.size();
  if (momentum_ == 0) {
    for (size_t k = 0; k < size; ++k) variable[k] = variable[k] - gradient[k] * learning_rate;
    return;
  }
  const auto momentum = static_cast<float>(momentum_);
  float* m = momentums_[index].data();
  for (size_t k = 0; k < size; ++k) {
    m[k] = m[k] * momentum - gradient[k] * learning_rate;
    if (nesterov_) {
      variable[k] = variable[k] + (m[k] * momentum - gradient[k] * learning_rate);
    } else {
      variable[k] = variable[k] + m[k];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Adam

Adam::Adam() : Adam(Args{}) {}

Adam::Adam(Args args) : Adam("Adam", std::move(args)) {}

Adam::Adam(std::string class_name, Args args)
    : Optimizer(std::move(class_name), std::move(args.name), args.learning_rate, args.weight_decay,
                args.base),
      beta_1_(args.beta_1),
      beta_2_(args.beta_2),
      epsilon_(args.epsilon),
      amsgrad_(args.amsgrad) {}

namespace {

// The keys Adam adds to the base config.
void read_adam_keys(ConfigReader& reader, double& beta_1, double& beta_2, double& epsilon,
                    bool& amsgrad) {
  beta_1 = reader.get_number("beta_1", 0.9);
  beta_2 = reader.get_number("beta_2", 0.999);
  epsilon = reader.get_number("epsilon", 1e-7);
  amsgrad = reader.get_bool("amsgrad", false);
}

}  // namespace

std::unique_ptr<Adam> Adam::from_config(const Config& config) {
  ConfigReader reader(config, {"Adam", config_layer_name(config)});
  Args args;
  read_optimizer_args(reader, args);
  read_adam_keys(reader, args.beta_1, args.beta_2, args.epsilon, args.amsgrad);
  reader.check_all_read();
  return std::make_unique<Adam>(std::move(args));
}

Config Adam::get_config() const {
  Config config = Optimizer::get_config();
  config["beta_1"] = beta_1_;
  config["beta_2"] = beta_2_;
  config["epsilon"] = epsilon_;
  config["amsgrad"] = amsgrad_;
  return config;
}

std::vector<Tensor*> Adam::slots() {
  // add_optimizer_variables(var_list, ["momentum", "velocity"]) interleaves them per variable.
  std::vector<Tensor*> out;
  for (size_t i = 0; i < momentums_.size(); ++i) {
    out.push_back(&momentums_[i]);
    out.push_back(&velocities_[i]);
  }
  for (Tensor& velocity_hat : velocity_hats_) out.push_back(&velocity_hat);
  return out;
}

void Adam::create_slots(const std::vector<Shape>& shapes) {
  momentums_.clear();
  velocities_.clear();
  velocity_hats_.clear();
  for (const Shape& shape : shapes) momentums_.emplace_back(shape);
  for (const Shape& shape : shapes) velocities_.emplace_back(shape);
  if (amsgrad_) {
    for (const Shape& shape : shapes) velocity_hats_.emplace_back(shape);
  }
}

void Adam::update_step(size_t index, std::span<const float> gradient, std::span<float> variable,
                       float learning_rate) {
  // Each operation in float32, in Keras's order.
  const auto local_step = static_cast<float>(iterations() + 1);
  const float beta_1_power = std::pow(static_cast<float>(beta_1_), local_step);
  const float beta_2_power = std::pow(static_cast<float>(beta_2_), local_step);
  const float alpha = learning_rate * std::sqrt(1.0f - beta_2_power) / (1.0f - beta_1_power);
  const auto one_minus_beta_1 = static_cast<float>(1.0 - beta_1_);
  const auto one_minus_beta_2 = static_cast<float>(1.0 - beta_2_);
  const auto epsilon = static_cast<float>(epsilon_);
  float* m = momentums_[index].data();
  float* v = velocities_[index].data();
  float* v_hat = amsgrad_ ? velocity_hats_[index].data() : nullptr;
  const size_t size = variable.size();
  for (size_t k = 0; k < size; ++k) {
    const float g = gradient[k];
    m[k] = m[k] + (g - m[k]) * one_minus_beta_1;
    v[k] = v[k] + (g * g - v[k]) * one_minus_beta_2;
    float velocity = v[k];
    if (v_hat != nullptr) {
      v_hat[k] = nan_max(v_hat[k], v[k]);
      velocity = v_hat[k];
    }
    variable[k] = variable[k] - (m[k] * alpha) / (std::sqrt(velocity) + epsilon);
  }
}

// ---------------------------------------------------------------------------------------------
// AdamW

AdamW::AdamW() : AdamW(Args{}) {}

AdamW::AdamW(Args args)
    : Adam("AdamW", Adam::Args{.learning_rate = args.learning_rate,
                               .beta_1 = args.beta_1,
                               .beta_2 = args.beta_2,
                               .epsilon = args.epsilon,
                               .amsgrad = args.amsgrad,
                               .weight_decay = args.weight_decay,
                               .base = args.base,
                               .name = std::move(args.name)}) {
  if (!weight_decay()) {
    throw_value_error(error_source(), "Argument `weight_decay` must be a float", "a float",
                      "weight_decay=None");
  }
}

std::unique_ptr<AdamW> AdamW::from_config(const Config& config) {
  ConfigReader reader(config, {"AdamW", config_layer_name(config)});
  Args args;
  read_optimizer_args(reader, args);
  read_adam_keys(reader, args.beta_1, args.beta_2, args.epsilon, args.amsgrad);
  reader.check_all_read();
  return std::make_unique<AdamW>(std::move(args));
}

// ---------------------------------------------------------------------------------------------
// Serialization

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::unique_ptr<Optimizer> deserialize_optimizer(const Config& identifier) {
  std::string class_name;
  Config config = Config::object();
  if (identifier.is_string()) {
    // keras.optimizers.get(str): deserialize({"class_name": identifier, "config": {}}).
    class_name = identifier.get<std::string>();
  } else if (identifier.is_object() && config_member(identifier, "class_name").is_string()) {
    class_name = identifier["class_name"].get<std::string>();
    const Config member = config_member(identifier, "config");
    if (!member.is_null()) config = member;
  } else {
    throw_value_error(kOptimizerSource, "could not interpret optimizer identifier",
                      "an optimizer name or a serialized optimizer object",
                      "identifier=" + identifier.dump());
  }
  // keras.optimizers.deserialize matches built-in class names without regard to case.
  const std::string key = lower(class_name);
  if (key == "sgd") return SGD::from_config(config);
  if (key == "adam") return Adam::from_config(config);
  if (key == "adamw") return AdamW::from_config(config);
  // The rest of keras.optimizers.ALL_OBJECTS_DICT.
  static constexpr std::string_view kOthers =
      " optimizer rmsprop adadelta adagrad adamax adafactor muon multioptimizer optimizermap nadam"
      " ftrl lion lossscaleoptimizer schedulefreeadamw schedulefreesgd ";
  std::string word = " ";  // appended, not "+"-built: GCC 12 reports a false -Wrestrict there
  word += key;
  word += " ";
  if (!key.empty() && key.find(' ') == std::string::npos &&
      kOthers.find(word) != std::string_view::npos) {
    throw NotSupportedError(error_message(kOptimizerSource, "unsupported optimizer",
                                          "one of the supported optimizers: SGD, Adam, AdamW",
                                          "optimizer=" + class_name));
  }
  throw_value_error(kOptimizerSource, "could not interpret optimizer identifier",
                    "an optimizer name or a serialized optimizer object",
                    "identifier=" + identifier.dump());
}

Config serialize_optimizer(const Optimizer& optimizer) {
  return Config{{"module", "keras.optimizers"},
                {"class_name", optimizer.class_name()},
                {"config", optimizer.get_config()},
                {"registered_name", nullptr}};
}

}  // namespace kattn
