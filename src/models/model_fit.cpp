// Keras's model.compile / train_on_batch / fit / evaluate for functional models.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <numeric>
#include <random>

#include "kattn/core/constraints.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/regularizers.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/metrics.hpp"
#include "models/model_backward.hpp"
#include "models/model_training.hpp"
#include "models/training_setup.hpp"

namespace kattn {

namespace detail {

namespace {

constexpr ErrorSource kFit{"Functional", "fit"};

CompiledMetric make_metric(const std::string& name, const Loss& loss) {
  std::string kind = name;
  if (name == "accuracy" || name == "acc") {
    if (dynamic_cast<const BinaryCrossentropy*>(&loss) != nullptr) {
      kind = "binary_accuracy";
    } else if (dynamic_cast<const SparseCategoricalCrossentropy*>(&loss) != nullptr) {
      kind = "sparse_categorical_accuracy";
    } else {
      throw_value_error(kFit, "cannot tell which accuracy `accuracy` means for this loss",
                        "binary_crossentropy or sparse_categorical_crossentropy with "
                        "metrics=[\"accuracy\"], or a metric named explicitly",
                        "loss=" + loss.class_name());
    }
  }
  if (kind == "binary_accuracy") {
    auto metric = std::make_shared<BinaryAccuracy>(BinaryAccuracy::Args{.name = name});
    return {name, [metric](const Tensor& t, const Tensor& p) { metric->update_state(t, p); },
            [metric] { return static_cast<double>(metric->result()); },
            [metric] { metric->reset_state(); }};
  }
  if (kind == "sparse_categorical_accuracy") {
    auto metric =
        std::make_shared<SparseCategoricalAccuracy>(SparseCategoricalAccuracy::Args{.name = name});
    return {name, [metric](const Tensor& t, const Tensor& p) { metric->update_state(t, p); },
            [metric] { return static_cast<double>(metric->result()); },
            [metric] { metric->reset_state(); }};
  }
  throw_value_error(kFit, "unknown metric",
                    "one of accuracy, binary_accuracy, sparse_categorical_accuracy",
                    "metrics=" + name);
}

// Rows `rows` of x along its first axis.
template <typename T>
BasicTensor<T> take_rows(const BasicTensor<T>& x, const std::vector<int64_t>& rows) {
  Shape shape = x.shape();
  shape[0] = static_cast<int64_t>(rows.size());
  BasicTensor<T> out(shape);
  const BasicTensor<T> dense = x.contiguous();
  const int64_t width = x.dim(0) == 0 ? 0 : x.size() / x.dim(0);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy_n(dense.data() + rows[r] * width, width,
                out.data() + static_cast<int64_t>(r) * width);
  }
  return out;
}

AnyTensor take_rows(const AnyTensor& x, const std::vector<int64_t>& rows) {
  return std::visit([&](const auto& tensor) -> AnyTensor { return take_rows(tensor, rows); }, x);
}

// The number of samples of x and y (their common first dimension); ValueError otherwise.
int64_t sample_count(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y,
                     size_t outputs) {
  if (y.size() != outputs) {
    throw_value_error(kFit, "wrong number of targets",
                      std::to_string(outputs) + " (one per model output)",
                      std::to_string(y.size()) + " targets");
  }
  std::optional<int64_t> count;
  const auto check = [&](const Shape& shape, const std::string& what) {
    if (shape.empty()) {
      throw_value_error(kFit, what + " has no batch axis", "arrays of rank >= 1",
                        what + ".shape=()");
    }
    if (count && *count != shape[0]) {
      throw_value_error(kFit, "inputs and targets differ in their number of samples",
                        std::to_string(*count) + " samples in every array",
                        what + ".shape=" + shape_to_string(shape));
    }
    count = shape[0];
  };
  for (size_t i = 0; i < x.size(); ++i) check(shape_of(x[i]), "x[" + std::to_string(i) + "]");
  for (size_t i = 0; i < y.size(); ++i) check(y[i].shape(), "y[" + std::to_string(i) + "]");
  return count.value_or(0);
}

// Batches of sample indices: in order, or shuffled by `rng`.
std::vector<std::vector<int64_t>> batches(int64_t samples, int64_t batch_size,
                                          std::mt19937_64* rng) {
  std::vector<int64_t> order(static_cast<size_t>(samples));
  std::iota(order.begin(), order.end(), 0);
  if (rng != nullptr) std::shuffle(order.begin(), order.end(), *rng);
  std::vector<std::vector<int64_t>> out;
  for (int64_t first = 0; first < samples; first += batch_size) {
    const int64_t last = std::min(samples, first + batch_size);
    out.emplace_back(order.begin() + first, order.begin() + last);
  }
  return out;
}

std::string format_logs(const Logs& logs, const std::string& prefix = "") {
  std::string text;
  for (const auto& [name, value] : logs) {
    char number[32];
    std::snprintf(number, sizeof number, "%.4f", value);
    text += " - " + prefix + name + ": " + number;
  }
  return text;
}

}  // namespace

std::vector<CompiledMetric> make_metrics(const TrainingSetup& setup) {
  std::vector<CompiledMetric> metrics;
  for (const std::string& name : setup.metric_names)
    metrics.push_back(make_metric(name, *setup.loss));
  return metrics;
}

}  // namespace detail

Logs Model::train_on_batch(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y) {
  const ErrorSource source{"Functional", name_};
  detail::TrainingSetup& setup = training_setup("training");
  detail::sample_count(x, y, outputs_.size());

  // Forward, keeping every node's state.
  std::vector<detail::NodeRun> runs;
  const std::vector<ValuePtr> outputs = run(x, {.training = true}, nullptr, &runs);

  // loss = sum over outputs of loss(y, output) + weight penalties + activity penalties
  std::vector<std::pair<ValuePtr, Tensor>> seeds;
  double loss = 0.0;
  std::vector<detail::CompiledMetric> metrics = detail::make_metrics(setup);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor* prediction = std::get_if<Tensor>(&outputs[i]->tensor);
    if (prediction == nullptr) {
      throw_value_error(source, "a model output is not float32", "float32 outputs to train",
                        "output " + std::to_string(i));
    }
    const LossValue value = setup.loss->compute(y[i], *prediction);
    loss += value.loss;
    seeds.emplace_back(outputs[i], value.grad);
    for (detail::CompiledMetric& metric : metrics) metric.update(y[i], *prediction);
  }
  for (const detail::NodeRun& node_run : runs) {
    const Layer* layer = node_run.node->operation->layer();
    const auto found = layer != nullptr ? setup.activity.find(layer) : setup.activity.end();
    if (found == setup.activity.end()) continue;
    for (const ValuePtr& output : node_run.forward.outputs) {
      const Tensor* tensor = std::get_if<Tensor>(&output->tensor);
      if (tensor == nullptr) continue;
      loss += found->second->penalty(*tensor);
      Tensor gradient(tensor->shape());
      found->second->add_gradient(*tensor, gradient);
      seeds.emplace_back(output, std::move(gradient));
    }
  }

  std::map<const Layer*, std::vector<Tensor>> weight_gradients;
  detail::backward_through(runs, seeds, weight_gradients);

  // The optimizer's variables and gradients in slot order; a weight no gradient reached gets
  // zeros (Keras's gradients for unconnected variables are None and skipped: zero is the same
  // for SGD and Adam without weight decay, and keeps the slots' positions fixed).
  std::vector<Tensor*> variables;
  std::vector<Tensor> gradients;
  for (detail::TrainingSetup::Slot& slot : setup.slots) {
    Variable& variable = slot.layer->weights_for_update()[slot.index];
    const auto found = weight_gradients.find(slot.layer);
    Tensor gradient = found != weight_gradients.end() ? found->second[slot.index]
                                                      : Tensor(variable.value.shape());
    if (slot.regularizer) {
      loss += slot.regularizer->penalty(variable.value);
      slot.regularizer->add_gradient(variable.value, gradient);
    }
    variables.push_back(&variable.value);
    gradients.push_back(std::move(gradient));
  }
  setup.optimizer->apply_gradients(variables, gradients);
  for (size_t i = 0; i < setup.slots.size(); ++i) {
    if (setup.slots[i].constraint) setup.slots[i].constraint->apply(*variables[i]);
  }

  Logs logs{{"loss", loss}};
  for (const detail::CompiledMetric& metric : metrics) logs[metric.name] = metric.result();
  return logs;
}

Logs Model::evaluate(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y,
                     int64_t batch_size) const {
  const ErrorSource source{"Functional", name_};
  const detail::TrainingSetup& setup = training_setup("evaluate()");
  if (batch_size <= 0) {
    throw_value_error(source, "invalid batch_size", "a positive integer",
                      "batch_size=" + std::to_string(batch_size));
  }
  const int64_t samples = detail::sample_count(x, y, outputs_.size());
  std::vector<detail::CompiledMetric> metrics = detail::make_metrics(setup);
  double weighted_loss = 0.0;
  for (const std::vector<int64_t>& rows : detail::batches(samples, batch_size, nullptr)) {
    std::vector<AnyTensor> batch_x;
    for (const AnyTensor& input : x) batch_x.push_back(detail::take_rows(input, rows));
    const std::vector<AnyTensor> predictions = predict(batch_x);
    for (size_t i = 0; i < predictions.size(); ++i) {
      const Tensor target = detail::take_rows(y[i], rows);
      const Tensor& prediction = std::get<Tensor>(predictions[i]);
      weighted_loss +=
          setup.loss->compute(target, prediction).loss * static_cast<double>(rows.size());
      for (detail::CompiledMetric& metric : metrics) metric.update(target, prediction);
    }
  }
  Logs logs{{"loss", samples == 0 ? 0.0 : weighted_loss / static_cast<double>(samples)}};
  for (const detail::CompiledMetric& metric : metrics) logs[metric.name] = metric.result();
  return logs;
}

History Model::fit(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y,
                   const FitArgs& args) {
  const ErrorSource source{"Functional", name_};
  if (args.batch_size <= 0 || args.epochs < 0) {
    throw_value_error(source, "invalid batch_size or epochs", "batch_size > 0 and epochs >= 0",
                      "batch_size=" + std::to_string(args.batch_size) +
                          ", epochs=" + std::to_string(args.epochs));
  }
  if (args.validation_x.has_value() != args.validation_y.has_value()) {
    throw_value_error(source, "validation data needs both inputs and targets",
                      "validation_x and validation_y together",
                      std::string("only validation_") + (args.validation_x ? "x" : "y"));
  }
  const int64_t samples = detail::sample_count(x, y, outputs_.size());
  if (args.validation_x)
    detail::sample_count(*args.validation_x, *args.validation_y, outputs_.size());
  std::ostream& out = args.progress != nullptr ? *args.progress : std::cout;
  const bool verbose = args.verbose == FitArgs::Verbose::kLine ||
                       (args.verbose == FitArgs::Verbose::kAuto && args.progress == nullptr &&
                        isatty(STDOUT_FILENO) != 0);
  std::mt19937_64 rng(args.seed.value_or(draw_seed()));

  History history;
  for (int64_t epoch = 0; epoch < args.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    Logs totals;
    int64_t seen = 0;
    for (const std::vector<int64_t>& rows :
         detail::batches(samples, args.batch_size, args.shuffle ? &rng : nullptr)) {
      std::vector<AnyTensor> batch_x;
      std::vector<Tensor> batch_y;
      for (const AnyTensor& input : x) batch_x.push_back(detail::take_rows(input, rows));
      for (const Tensor& target : y) batch_y.push_back(detail::take_rows(target, rows));
      // Keras's epoch logs average the batch logs, weighted by batch size.
      for (const auto& [name, value] : train_on_batch(batch_x, batch_y)) {
        totals[name] += value * static_cast<double>(rows.size());
      }
      seen += static_cast<int64_t>(rows.size());
    }
    Logs logs;
    for (const auto& [name, total] : totals) logs[name] = total / static_cast<double>(seen);
    Logs validation;
    if (args.validation_x) {
      validation = evaluate(*args.validation_x, *args.validation_y, args.batch_size);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
    for (const auto& [name, value] : validation) history.history["val_" + name].push_back(value);
    if (verbose) {
      char time[32];
      std::snprintf(time, sizeof time, "%.2fs", seconds);
      out << "Epoch " << epoch + 1 << "/" << args.epochs << " - " << time
          << detail::format_logs(logs) << detail::format_logs(validation, "val_") << "\n"
          << std::flush;
    }
  }
  return history;
}

}  // namespace kattn
