// Keras's Model.compile, compile_from_config and get_compile_config for functional models: the
// training setup, and the compile_config config.json carries so that a saved model loads
// compiled (with its optimizer's state) in Keras and in kattn.
#include <algorithm>
#include <utility>

#include "kattn/models/model.hpp"
#include "models/training_setup.hpp"

namespace kattn {

namespace {

// Keras's metrics identifiers: a name, or a serialized metric kattn has
// ({"class_name": "SparseCategoricalAccuracy", "config": {"name": ...}}) under its own name.
std::string metric_name(const Config& metric, ErrorSource source) {
  if (metric.is_string()) return metric.get<std::string>();
  const std::string class_name = config_string(metric, "class_name");
  const std::string name = config_string(config_member(metric, "config"), "name");
  if ((class_name == "BinaryAccuracy" && name == "binary_accuracy") ||
      (class_name == "SparseCategoricalAccuracy" && name == "sparse_categorical_accuracy")) {
    return name;
  }
  throw NotSupportedError(error_message(
      source, "unsupported metric in compile_config",
      "accuracy, binary_accuracy or sparse_categorical_accuracy, by name or as Keras serializes "
      "BinaryAccuracy and SparseCategoricalAccuracy under their default names",
      "metrics entry " + metric.dump()));
}

[[noreturn]] void unsupported(ErrorSource source, const std::string& key,
                              const std::string& expected, const Config& value) {
  throw NotSupportedError(error_message(source, "unsupported compile_config." + key, expected,
                                        key + "=" + value.dump()));
}

// The arguments of compile(**compile_config) and the config without its optimizer.
std::pair<CompileArgs, Config> read_compile_config(const Config& compile_config, ErrorSource source,
                                                   size_t outputs) {
  if (!compile_config.is_object()) {
    throw_value_error(source, "invalid compile_config", "a JSON object", compile_config.dump());
  }
  static const std::vector<std::string> kKeys{
      "optimizer",   "loss",        "loss_weights",        "metrics",        "weighted_metrics",
      "run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss"};
  for (const auto& [key, value] : compile_config.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw_value_error(source, "unknown compile_config key `" + key + "`",
                        "arguments of Model.compile", key + "=" + value.dump());
    }
  }
  CompileArgs args;
  const Config optimizer = compile_config.value("optimizer", Config("rmsprop"));
  args.optimizer = deserialize_optimizer(optimizer);

  Config loss = compile_config.value("loss", Config(nullptr));
  // A list or dict of one loss per output, for a one-output model, is that loss.
  if (outputs == 1 && (loss.is_array() || (loss.is_object() && !loss.contains("class_name"))) &&
      loss.size() == 1) {
    loss = loss.is_array() ? loss[0] : loss.begin().value();
  }
  if (loss.is_null()) unsupported(source, "loss", "a loss", loss);
  if (loss.is_array() || (loss.is_object() && !loss.contains("class_name"))) {
    unsupported(source, "loss", "one loss, applied to every output", loss);
  }
  args.loss = deserialize_loss(loss);

  const Config loss_weights = compile_config.value("loss_weights", Config(nullptr));
  if (!loss_weights.is_null()) unsupported(source, "loss_weights", "null", loss_weights);
  const Config weighted = compile_config.value("weighted_metrics", Config(nullptr));
  if (!weighted.is_null() && !(weighted.is_array() && weighted.empty())) {
    unsupported(source, "weighted_metrics", "null", weighted);
  }
  Config metrics = compile_config.value("metrics", Config(nullptr));
  // Per-output metrics of a one-output model: [[...]] or {"name": [...]}.
  if (outputs == 1 && metrics.size() == 1 &&
      ((metrics.is_array() && metrics[0].is_array()) ||
       (metrics.is_object() && !metrics.contains("class_name")))) {
    metrics = metrics.is_array() ? metrics[0] : metrics.begin().value();
  }
  if (!metrics.is_null()) {
    if (!metrics.is_array()) unsupported(source, "metrics", "a list of metrics", metrics);
    for (const Config& metric : metrics) args.metrics.push_back(metric_name(metric, source));
  }

  Config rest = compile_config;
  rest.erase("optimizer");
  return {std::move(args), std::move(rest)};
}

// What Keras's compile() records when it is called with these arguments.
Config default_compile_config(const CompileArgs& args) {
  Config metrics = nullptr;
  if (!args.metrics.empty()) metrics = Config(args.metrics);
  return Config{{"loss", serialize_loss(*args.loss)},
                {"loss_weights", nullptr},
                {"metrics", metrics},
                {"weighted_metrics", nullptr},
                {"run_eagerly", false},
                {"steps_per_execution", 1},
                {"jit_compile", "auto"}};
}

}  // namespace

void Model::compile(CompileArgs args) {
  const ErrorSource source{"Functional", name_};
  if (args.optimizer == nullptr) {
    throw_value_error(source, "compile() needs an optimizer", "an Optimizer (SGD, Adam, AdamW)",
                      "optimizer=null");
  }
  if (args.loss == nullptr) {
    throw_value_error(source, "compile() needs a loss",
                      "a Loss (MeanSquaredError, BinaryCrossentropy, ...)", "loss=null");
  }
  auto setup = std::make_shared<detail::TrainingSetup>();
  setup->compile_config = default_compile_config(args);
  setup->optimizer = std::move(args.optimizer);
  setup->loss = std::move(args.loss);
  setup->metric_names = std::move(args.metrics);
  detail::make_metrics(*setup);  // refuses unknown metrics now
  for (const std::shared_ptr<Operation>& operation : operations_) {
    Layer* layer = operation->layer();
    if (layer == nullptr) continue;
    if (auto regularizer = Regularizer::from_config(layer->activity_regularizer())) {
      setup->activity[layer] = regularizer;
    }
    if (!layer->trainable()) continue;
    for (size_t i = 0; i < layer->weights().size(); ++i) {
      const Variable& variable = layer->weights()[i];
      if (!variable.trainable) continue;
      setup->slots.push_back({layer, i, Regularizer::from_config(variable.regularizer),
                              Constraint::from_config(variable.constraint)});
    }
  }
  training_ = std::move(setup);
  // A new compile() replaces what a loaded file said about training, as in Keras.
  saved_compile_config_ = nullptr;
  saved_optimizer_variables_ = WeightStore();
}

void Model::compile_from_config(const Config& compile_config) {
  const ErrorSource source{"Functional", name_};
  auto [args, rest] = read_compile_config(compile_config, source, outputs_.size());
  // What a failure leaves as it was: the loaded file's state stays pending.
  const std::shared_ptr<detail::TrainingSetup> previous = training_;
  const Config previous_config = saved_compile_config_;
  const WeightStore saved = saved_optimizer_variables_;
  try {
    compile(std::move(args));
    training_->compile_config = std::move(rest);
    // Keras's compile_from_config builds the optimizer of a built model (a functional model
    // always is), so that load_own_variables finds its slots.
    detail::build_optimizer(*training_);
    if (saved.has_datasets()) detail::read_optimizer_variables(*training_->optimizer, saved);
  } catch (...) {
    training_ = previous;
    saved_compile_config_ = previous_config;
    saved_optimizer_variables_ = saved;
    throw;
  }
}

Config Model::get_compile_config() const {
  if (training_ == nullptr) return saved_compile_config_;
  Config config = training_->compile_config;
  config["optimizer"] = serialize_optimizer(*training_->optimizer);
  return config;
}

std::shared_ptr<Optimizer> Model::optimizer() const {
  return training_ == nullptr ? nullptr : training_->optimizer;
}

detail::TrainingSetup& Model::training_setup(const char* call) {
  if (training_ == nullptr && !saved_compile_config_.is_null()) {
    // A loaded model whose compile_config kattn could not compile at load time: the reason
    // (an optimizer, loss or metric kattn does not have) is reported now, by name.
    compile_from_config(saved_compile_config_);
  }
  return const_cast<detail::TrainingSetup&>(std::as_const(*this).training_setup(call));
}

const detail::TrainingSetup& Model::training_setup(const char* call) const {
  const ErrorSource source{"Functional", name_};
  if (training_ == nullptr && !saved_compile_config_.is_null()) {
    read_compile_config(saved_compile_config_, source, outputs_.size());
  }
  if (training_ == nullptr) {
    throw_value_error(source, std::string("the model must be compiled before ") + call,
                      "model.compile(...) first", "an uncompiled model");
  }
  return *training_;
}

}  // namespace kattn
