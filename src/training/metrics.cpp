#include "kattn/training/metrics.hpp"

#include <cmath>
#include <string_view>
#include <utility>

#include "core/argument_checks.hpp"
#include "kattn/training/losses.hpp"

namespace kattn {
namespace {

using detail::python_float;

std::vector<double> to_doubles(const Tensor& tensor) {
  const std::vector<float> values = tensor.to_vector();
  return std::vector<double>(values.begin(), values.end());
}

int64_t product(const Shape& shape, size_t begin, size_t end) {
  int64_t count = 1;
  for (size_t axis = begin; axis < end; ++axis) count *= shape[axis];
  return count;
}

// values (outer, inner) -> (outer,): the mean over the trailing axes.
std::vector<double> mean_of_rows(const std::vector<double>& values, int64_t outer, int64_t inner) {
  std::vector<double> out(static_cast<size_t>(outer), 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    double sum = 0.0;
    for (int64_t i = 0; i < inner; ++i) sum += values[static_cast<size_t>(o * inner + i)];
    out[static_cast<size_t>(o)] = sum / static_cast<double>(inner);
  }
  return out;
}

// Metric names and the dtype key: Metric.__init__ takes `name` and `dtype`; only float32 is
// supported.
std::string read_metric_args(ConfigReader& reader, std::string_view default_name) {
  const std::string name = reader.get_string("name", default_name);
  read_float32_dtype(reader);
  return name;
}

std::string shapes_text(const Tensor& y_true, const Tensor& y_pred) {
  return "y_true.shape=" + shape_to_string(y_true.shape()) +
         ", y_pred.shape=" + shape_to_string(y_pred.shape());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Mean

Mean::Mean() : Mean(Args{}) {}

Mean::Mean(Args args) : name_(std::move(args.name)) {}

std::unique_ptr<Mean> Mean::from_config(const Config& config) {
  ConfigReader reader(config, {"Mean", config_layer_name(config)});
  Args args;
  args.name = read_metric_args(reader, "mean");
  reader.check_all_read();
  return std::make_unique<Mean>(std::move(args));
}

void Mean::update_state(const Tensor& values, const Tensor* sample_weight) {
  accumulate(values.shape(), to_doubles(values), sample_weight, {"Mean", name_});
}

void Mean::update_state(double value) {
  total_ += static_cast<float>(value);
  count_ += 1.0f;
}

void Mean::update_state(double value, double sample_weight) {
  // Mean.update_state's scalar path: total += value * sample_weight; count += sample_weight, in
  // float32.
  total_ += static_cast<float>(value) * static_cast<float>(sample_weight);
  count_ += static_cast<float>(sample_weight);
}

float Mean::result() const { return count_ == 0.0f ? 0.0f : total_ / count_; }

void Mean::reset_state() {
  total_ = 0.0f;
  count_ = 0.0f;
}

Config Mean::get_config() const { return Config{{"name", name_}, {"dtype", "float32"}}; }

void Mean::accumulate(Shape shape, std::vector<double> values, const Tensor* sample_weight,
                      ErrorSource source) {
  std::vector<double> weights;
  if (sample_weight != nullptr) {
    Shape weight_shape = sample_weight->shape();
    std::vector<double> raw = to_doubles(*sample_weight);
    squeeze_or_expand_to_same_rank(shape, weight_shape, true);
    const size_t weight_rank = weight_shape.size();
    // Values are averaged down to the weights' rank.
    if (shape.size() > weight_rank) {
      const int64_t outer = product(shape, 0, weight_rank);
      values = mean_of_rows(values, outer, product(shape, weight_rank, shape.size()));
      shape.resize(weight_rank);
    }
    // ops.broadcast_to(sample_weight, values.shape).
    bool fits = weight_rank <= shape.size();
    for (size_t axis = 0; fits && axis < weight_rank; ++axis) {
      const int64_t w = weight_shape[weight_rank - 1 - axis];
      fits = w == 1 || w == shape[shape.size() - 1 - axis];
    }
    if (!fits) {
      throw_value_error(source, "`sample_weight` cannot be broadcast to the values",
                        "a shape that broadcasts to " + shape_to_string(shape),
                        "sample_weight.shape=" + shape_to_string(sample_weight->shape()));
    }
    const Shape padded = [&] {
      Shape out(shape.size() - weight_rank, 1);
      out.insert(out.end(), weight_shape.begin(), weight_shape.end());
      return out;
    }();
    Shape strides = contiguous_strides(padded);
    for (size_t axis = 0; axis < padded.size(); ++axis) {
      if (padded[axis] == 1) strides[axis] = 0;
    }
    weights.resize(values.size());
    const Shape value_strides = contiguous_strides(shape);
    for (size_t k = 0; k < values.size(); ++k) {
      int64_t offset = 0;
      auto rest = static_cast<int64_t>(k);
      for (size_t axis = 0; axis < shape.size(); ++axis) {
        offset += (rest / value_strides[axis]) * strides[axis];
        rest %= value_strides[axis];
      }
      weights[k] = raw[static_cast<size_t>(offset)];
      values[k] *= weights[k];
    }
    if (weight_rank > 1) {
      weights = mean_of_rows(weights, shape[0], product(shape, 1, shape.size()));
    }
  }
  if (shape.size() > 1) {
    values = mean_of_rows(values, shape[0], product(shape, 1, shape.size()));
  }
  double total = 0.0;
  for (double v : values) total += v;
  double count = 0.0;
  if (sample_weight != nullptr) {
    for (double w : weights) count += w;
  } else {
    count = shape.empty() ? 1.0 : static_cast<double>(shape[0]);
  }
  total_ += static_cast<float>(total);
  count_ += static_cast<float>(count);
}

// ---------------------------------------------------------------------------------------------
// BinaryAccuracy

BinaryAccuracy::BinaryAccuracy() : BinaryAccuracy(Args{}) {}

BinaryAccuracy::BinaryAccuracy(Args args)
    : mean_(Mean::Args{std::move(args.name)}), threshold_(args.threshold) {
  if (!(threshold_ > 0.0 && threshold_ < 1.0)) {
    throw_value_error({"BinaryAccuracy", mean_.name()}, "invalid value for argument `threshold`",
                      "a value in interval (0, 1)", "threshold=" + python_float(threshold_));
  }
}

std::unique_ptr<BinaryAccuracy> BinaryAccuracy::from_config(const Config& config) {
  ConfigReader reader(config, {"BinaryAccuracy", config_layer_name(config)});
  Args args;
  args.name = read_metric_args(reader, "binary_accuracy");
  args.threshold = reader.get_number("threshold", 0.5);
  reader.check_all_read();
  return std::make_unique<BinaryAccuracy>(std::move(args));
}

// values (outer,) = mean(y_true == (y_pred > threshold), axis=-1) over (outer, D).
void BinaryAccuracy::update_state(const Tensor& y_true, const Tensor& y_pred,
                                  const Tensor* sample_weight) {
  const ErrorSource source{"BinaryAccuracy", mean_.name()};
  Shape t = y_true.shape();
  Shape p = y_pred.shape();
  squeeze_or_expand_to_same_rank(t, p, true);
  if (t != p) {
    // binary_accuracy compares with ops.equal, which broadcasts; kattn requires one shape.
    throw_value_error(source, "`y_true` and `y_pred` must have the same shape",
                      "y_true.shape == y_pred.shape, up to a trailing axis of length 1",
                      shapes_text(y_true, y_pred));
  }
  if (p.empty()) {
    throw_value_error(source, "`y_pred` must be at least rank 1 to average over axis -1",
                      "a tensor of rank >= 1", "y_pred.shape=()");
  }
  const std::vector<float> truth = y_true.to_vector();
  const std::vector<float> pred = y_pred.to_vector();
  // The threshold is cast to y_pred's dtype, float32, before the comparison.
  const auto threshold = static_cast<float>(threshold_);
  const int64_t dim = p.back();
  const int64_t outer = product(p, 0, p.size() - 1);
  std::vector<double> values(static_cast<size_t>(outer), 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t matches = 0;
    for (int64_t d = 0; d < dim; ++d) {
      const auto e = static_cast<size_t>(o * dim + d);
      const float predicted = pred[e] > threshold ? 1.0f : 0.0f;
      if (truth[e] == predicted) ++matches;
    }
    values[static_cast<size_t>(o)] = static_cast<double>(matches) / static_cast<double>(dim);
  }
  mean_.accumulate(Shape(p.begin(), p.end() - 1), std::move(values), sample_weight, source);
}

Config BinaryAccuracy::get_config() const {
  Config config = mean_.get_config();
  config["threshold"] = threshold_;
  return config;
}

// ---------------------------------------------------------------------------------------------
// SparseCategoricalAccuracy

SparseCategoricalAccuracy::SparseCategoricalAccuracy() : SparseCategoricalAccuracy(Args{}) {}

SparseCategoricalAccuracy::SparseCategoricalAccuracy(Args args)
    : mean_(Mean::Args{std::move(args.name)}) {}

std::unique_ptr<SparseCategoricalAccuracy> SparseCategoricalAccuracy::from_config(
    const Config& config) {
  ConfigReader reader(config, {"SparseCategoricalAccuracy", config_layer_name(config)});
  Args args;
  args.name = read_metric_args(reader, "sparse_categorical_accuracy");
  reader.check_all_read();
  return std::make_unique<SparseCategoricalAccuracy>(std::move(args));
}

// values (N,) = (y_true == argmax(y_pred, axis=-1)) over y_pred (N, C).
void SparseCategoricalAccuracy::update_state(const Tensor& y_true, const Tensor& y_pred,
                                             const Tensor* sample_weight) {
  const ErrorSource source{"SparseCategoricalAccuracy", mean_.name()};
  Shape t = y_true.shape();
  const Shape& p = y_pred.shape();
  // sparse_categorical_accuracy squeezes a trailing label axis of length 1 when the ranks are
  // equal, and gives the matches y_true's original shape back afterwards.
  const bool reshape_matches = t.size() == p.size() && !t.empty() && t.back() == 1;
  if (reshape_matches) t.pop_back();
  if (p.empty() || p.back() == 0) {
    throw_value_error(source, "`y_pred` needs a class axis to take the argmax over",
                      "y_pred of shape (..., num_classes) with num_classes >= 1",
                      "y_pred.shape=" + shape_to_string(p));
  }
  if (t != Shape(p.begin(), p.end() - 1)) {
    // ops.equal broadcasts the labels against the argmax; kattn requires matching shapes.
    throw_value_error(source,
                      "`y_true` and `y_pred` must have the same shape up until the last dimension",
                      "y_true.shape == y_pred.shape[:-1], or that with a trailing axis of length 1",
                      shapes_text(y_true, y_pred));
  }
  const std::vector<float> labels = y_true.to_vector();
  const std::vector<float> pred = y_pred.to_vector();
  const int64_t classes = p.back();
  std::vector<double> values(labels.size(), 0.0);
  for (size_t n = 0; n < labels.size(); ++n) {
    // numpy's argmax: the first maximum, or the first NaN.
    const float* row = pred.data() + static_cast<int64_t>(n) * classes;
    int64_t best = 0;
    for (int64_t j = 0; j < classes; ++j) {
      if (std::isnan(row[j])) {
        best = j;
        break;
      }
      if (row[j] > row[best]) best = j;
    }
    // The argmax is cast to y_true's dtype, float32, for the comparison.
    values[n] = labels[n] == static_cast<float>(best) ? 1.0 : 0.0;
  }
  Shape shape = reshape_matches ? y_true.shape() : t;
  if (shape.size() > 1 && shape.back() == 1) shape.pop_back();
  mean_.accumulate(std::move(shape), std::move(values), sample_weight, source);
}

Config SparseCategoricalAccuracy::get_config() const { return mean_.get_config(); }

}  // namespace kattn
