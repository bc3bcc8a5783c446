#include "kattn/training/losses.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

#include "core/argument_checks.hpp"

namespace kattn {
namespace {

using detail::python_float;

// keras.backend.epsilon() as the bounds of Keras's clip: the bounds are Python floats applied to
// float32 tensors, so they take effect rounded to float32 (1 - 1e-7 becomes 1 - 2^-23).
constexpr double kClipLow = static_cast<double>(static_cast<float>(1e-7));
constexpr double kClipHigh = static_cast<double>(static_cast<float>(1.0 - 1e-7));

constexpr ErrorSource kLossSource{"Loss", ""};

// A double array with its shape: per-sample losses, sample weights, masks.
struct Array {
  Shape shape;
  std::vector<double> values;
};

std::vector<double> to_doubles(const Tensor& tensor) {
  const std::vector<float> values = tensor.to_vector();
  return std::vector<double>(values.begin(), values.end());
}

// numpy broadcasting of two shapes: the result shape and, per result element in row-major
// order, the flat index of the element of each operand it reads.
struct Broadcast {
  Shape shape;
  std::vector<int64_t> a;
  std::vector<int64_t> b;
};

std::optional<Broadcast> broadcast(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape pa(rank - a.size(), 1);
  pa.insert(pa.end(), a.begin(), a.end());
  Shape pb(rank - b.size(), 1);
  pb.insert(pb.end(), b.begin(), b.end());
  Broadcast out;
  out.shape.resize(rank);
  for (size_t axis = 0; axis < rank; ++axis) {
    if (pa[axis] != pb[axis] && pa[axis] != 1 && pb[axis] != 1) return std::nullopt;
    out.shape[axis] = pa[axis] == 1 ? pb[axis] : pa[axis];
  }
  // Strides of each operand in the result's index space: 0 along broadcast axes.
  Shape sa = contiguous_strides(pa);
  Shape sb = contiguous_strides(pb);
  for (size_t axis = 0; axis < rank; ++axis) {
    if (pa[axis] == 1) sa[axis] = 0;
    if (pb[axis] == 1) sb[axis] = 0;
  }
  const int64_t count = num_elements(out.shape);
  out.a.reserve(static_cast<size_t>(count));
  out.b.reserve(static_cast<size_t>(count));
  Shape index(rank, 0);
  int64_t ia = 0;
  int64_t ib = 0;
  for (int64_t n = 0; n < count; ++n) {
    out.a.push_back(ia);
    out.b.push_back(ib);
    for (size_t axis = rank; axis-- > 0;) {
      ++index[axis];
      ia += sa[axis];
      ib += sb[axis];
      if (index[axis] < out.shape[axis]) break;
      ia -= sa[axis] * out.shape[axis];
      ib -= sb[axis] * out.shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

Broadcast broadcast_weights(ErrorSource source, const Shape& losses, const Shape& weights,
                            const Shape& sample_weight_shape) {
  std::optional<Broadcast> result = broadcast(losses, weights);
  if (!result) {
    throw_value_error(
        source, "`sample_weight` does not broadcast against the per-sample losses",
        "a shape that broadcasts with the per-sample loss shape " + shape_to_string(losses),
        "sample_weight.shape=" + shape_to_string(sample_weight_shape));
  }
  return *std::move(result);
}

// A flat index of `shape` written as a numpy index: "[0, 2]".
std::string index_text(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  std::string text = "[";
  for (size_t axis = 0; axis < index.size(); ++axis) {
    text += (axis > 0 ? ", " : "") + std::to_string(index[axis]);
  }
  return text + "]";
}

std::string shapes_text(const Tensor& y_true, const Tensor& y_pred) {
  return "y_true.shape=" + shape_to_string(y_true.shape()) +
         ", y_pred.shape=" + shape_to_string(y_pred.shape());
}

bool is_mean_reduction(const std::string& reduction) {
  return reduction == "sum_over_batch_size" || reduction == "mean";
}

// keras.src.losses.loss.standardize_reduction, less the unreduced forms that leave no scalar.
void check_reduction(ErrorSource source, const std::string& reduction) {
  if (reduction == "none") {
    throw NotSupportedError(error_message(
        source, "reduction=None returns the per-sample losses, which compute() cannot reduce",
        "one of \"sum_over_batch_size\", \"sum\", \"mean\", \"mean_with_sample_weight\"",
        "reduction=none"));
  }
  if (reduction != "sum_over_batch_size" && reduction != "sum" && reduction != "mean" &&
      reduction != "mean_with_sample_weight") {
    throw_value_error(source, "invalid value for argument `reduction`",
                      "one of \"sum_over_batch_size\", \"sum\", \"mean\", "
                      "\"mean_with_sample_weight\", \"none\" or None",
                      "reduction=" + reduction);
  }
}

// The reduced loss and d loss / d per-sample value, as keras.src.losses.loss
// reduce_weighted_values computes the loss: the mask is merged into the sample weights
// (apply_mask), the weights are aligned to the losses' rank and broadcast against them, and
// reduce_values sums and divides.
struct Reduced {
  double loss = 0.0;
  std::vector<double> dvalues;
};

Reduced reduce_weighted_values(ErrorSource source, const Shape& losses_shape,
                               const std::vector<double>& losses, const std::vector<double>& mask,
                               const Tensor* sample_weight, const std::string& reduction) {
  std::optional<Array> weight;
  if (sample_weight != nullptr) weight = Array{sample_weight->shape(), to_doubles(*sample_weight)};
  if (!mask.empty()) {
    Array scaled{losses_shape, mask};
    if (is_mean_reduction(reduction)) {
      // Valid entries weigh total / valid, so that dividing by the entry count divides by the
      // number of valid entries; divide_no_nan makes an all-masked batch weigh 0.
      double valid = 0.0;
      for (double m : scaled.values) valid += m;
      const double total = static_cast<double>(scaled.values.size());
      const double factor = valid == 0.0 ? 0.0 : total / valid;
      for (double& m : scaled.values) m *= factor;
    }
    if (weight) {
      Shape mask_shape = scaled.shape;
      Shape weight_shape = weight->shape;
      squeeze_or_expand_to_same_rank(mask_shape, weight_shape, true);
      const Broadcast bc =
          broadcast_weights(source, mask_shape, weight_shape, sample_weight->shape());
      Array merged{bc.shape, std::vector<double>(bc.a.size())};
      for (size_t k = 0; k < bc.a.size(); ++k) {
        merged.values[k] = weight->values[static_cast<size_t>(bc.b[k])] *
                           scaled.values[static_cast<size_t>(bc.a[k])];
      }
      weight = std::move(merged);
    } else {
      weight = std::move(scaled);
    }
  }

  Reduced out;
  out.dvalues.assign(losses.size(), 0.0);
  Shape values_shape = losses_shape;
  std::optional<Broadcast> bc;
  Shape weighted_shape = losses_shape;
  double sum = 0.0;
  if (weight) {
    Shape weight_shape = weight->shape;
    squeeze_or_expand_to_same_rank(values_shape, weight_shape, true);
    bc = broadcast_weights(source, values_shape, weight_shape,
                           sample_weight != nullptr ? sample_weight->shape() : losses_shape);
    weighted_shape = bc->shape;
    for (size_t k = 0; k < bc->a.size(); ++k) {
      sum += losses[static_cast<size_t>(bc->a[k])] * weight->values[static_cast<size_t>(bc->b[k])];
    }
  } else {
    for (double value : losses) sum += value;
  }

  // reduce_values: a 0-d or (0,) result is returned as it is; otherwise the sum is divided by
  // the entry count, or by the sum of the weights for "mean_with_sample_weight" (both through
  // divide_no_nan), or kept for "sum".
  double scale = 1.0;
  out.loss = sum;
  if (!weighted_shape.empty() && weighted_shape != Shape{0} && reduction != "sum") {
    double divisor = static_cast<double>(num_elements(weighted_shape));
    if (reduction == "mean_with_sample_weight" && weight) {
      divisor = 0.0;
      for (double w : weight->values) divisor += w;
    }
    out.loss = divisor == 0.0 ? 0.0 : sum / divisor;
    scale = divisor == 0.0 ? 0.0 : 1.0 / divisor;
  }
  if (bc) {
    for (size_t k = 0; k < bc->a.size(); ++k) {
      out.dvalues[static_cast<size_t>(bc->a[k])] +=
          scale * weight->values[static_cast<size_t>(bc->b[k])];
    }
  } else {
    std::fill(out.dvalues.begin(), out.dvalues.end(), scale);
  }
  return out;
}

// The shapes of y_true and y_pred after LossFunctionWrapper.call's alignment.
std::pair<Shape, Shape> aligned_shapes(const Tensor& y_true, const Tensor& y_pred) {
  Shape t = y_true.shape();
  Shape p = y_pred.shape();
  squeeze_or_expand_to_same_rank(t, p, true);
  return {t, p};
}

int64_t product(const Shape& shape, size_t begin, size_t end) {
  int64_t count = 1;
  for (size_t axis = begin; axis < end; ++axis) count *= shape[axis];
  return count;
}

// Reading the keys every loss config has.
struct LossConfigArgs {
  std::string name;
  std::string reduction;
};

LossConfigArgs read_loss_args(ConfigReader& reader, std::string_view class_name,
                              std::string_view default_name) {
  LossConfigArgs args;
  const Config name = reader.get("name", std::string(default_name));
  if (name.is_null() || name == "") {
    // Loss.__init__: `name or auto_name(class name)`.
    args.name = to_snake_case(class_name);
  } else if (name.is_string()) {
    args.name = name.get<std::string>();
  } else {
    reader.fail("name", "a string");
  }
  const Config reduction = reader.get("reduction", "sum_over_batch_size");
  if (reduction.is_null()) {
    args.reduction = "none";
  } else if (reduction.is_string()) {
    args.reduction = reduction.get<std::string>();
  } else {
    reader.fail("reduction", "a string or null");
  }
  // Loss.get_config does not write dtype, but Loss.__init__ takes it; only float32 is supported.
  read_float32_dtype(reader);
  return args;
}

// The same into a loss's Args, whose name is the default.
template <typename Args>
void read_loss_args(ConfigReader& reader, Args& args) {
  LossConfigArgs base = read_loss_args(reader, reader.source().class_name, args.name);
  args.reduction = std::move(base.reduction);
  args.name = std::move(base.name);
}

}  // namespace

// Both Python conditions test the ranks as they were on entry.
void squeeze_or_expand_to_same_rank(Shape& x1, Shape& x2, bool expand_rank_1) {
  const size_t rank1 = x1.size();
  const size_t rank2 = x2.size();
  if (rank1 == rank2) return;
  if (rank1 == rank2 + 1 && x1.back() == 1) {
    if (rank2 == 1 && expand_rank_1) {
      x2.push_back(1);
    } else {
      x1.pop_back();
    }
  }
  if (rank2 == rank1 + 1 && x2.back() == 1) {
    if (rank1 == 1 && expand_rank_1) {
      x1.push_back(1);
    } else {
      x2.pop_back();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loss

Loss::Loss(std::string class_name, std::string name, std::string reduction)
    : class_name_(std::move(class_name)), name_(std::move(name)), reduction_(std::move(reduction)) {
  check_reduction(error_source(), reduction_);
}

Config Loss::get_config() const { return Config{{"name", name_}, {"reduction", reduction_}}; }

LossValue Loss::compute(const Tensor& y_true, const Tensor& y_pred,
                        const Tensor* sample_weight) const {
  const PerSample losses = per_sample(y_true, y_pred);
  const Reduced reduced = reduce_weighted_values(error_source(), losses.shape, losses.values,
                                                 losses.mask, sample_weight, reduction_);
  LossValue out;
  out.loss = reduced.loss;
  out.grad = Tensor(y_pred.shape());
  float* grad = out.grad.data();
  // Chain rule: element e of y_pred, at (o, d, i) of (outer, dim, inner), feeds only per-sample
  // value o * inner + i.
  const int64_t block = losses.dim * losses.inner;
  const int64_t count = y_pred.size();
  for (int64_t e = 0; e < count; ++e) {
    const int64_t sample = (e / block) * losses.inner + e % losses.inner;
    grad[e] = static_cast<float>(reduced.dvalues[static_cast<size_t>(sample)] *
                                 losses.local_grad[static_cast<size_t>(e)]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MeanSquaredError

MeanSquaredError::MeanSquaredError() : MeanSquaredError(Args{}) {}

MeanSquaredError::MeanSquaredError(Args args)
    : Loss("MeanSquaredError", std::move(args.name), std::move(args.reduction)) {}

std::unique_ptr<MeanSquaredError> MeanSquaredError::from_config(const Config& config) {
  ConfigReader reader(config, {"MeanSquaredError", config_layer_name(config)});
  Args args;
  read_loss_args(reader, args);
  reader.check_all_read();
  return std::make_unique<MeanSquaredError>(std::move(args));
}

std::unique_ptr<Loss> MeanSquaredError::clone() const {
  return std::make_unique<MeanSquaredError>(*this);
}

// values (outer,) = mean((y_true - y_pred)^2, axis=-1) over y_pred (outer, D).
Loss::PerSample MeanSquaredError::per_sample(const Tensor& y_true, const Tensor& y_pred) const {
  const auto [t, p] = aligned_shapes(y_true, y_pred);
  if (t != p) {
    // mean_squared_error broadcasts y_true against y_pred; kattn requires one shape.
    throw_value_error(error_source(), "`y_true` and `y_pred` must have the same shape",
                      "y_true.shape == y_pred.shape, up to a trailing axis of length 1",
                      shapes_text(y_true, y_pred));
  }
  if (p.empty()) {
    throw_value_error(error_source(), "`y_pred` must be at least rank 1 to average over axis -1",
                      "a tensor of rank >= 1", "y_pred.shape=()");
  }
  const std::vector<float> truth = y_true.to_vector();
  const std::vector<float> pred = y_pred.to_vector();
  PerSample out;
  out.shape = Shape(p.begin(), p.end() - 1);
  out.dim = p.back();
  const int64_t outer = product(p, 0, p.size() - 1);
  const auto dim = static_cast<double>(out.dim);
  out.values.assign(static_cast<size_t>(outer), 0.0);
  out.local_grad.resize(pred.size());
  for (int64_t o = 0; o < outer; ++o) {
    double sum = 0.0;
    for (int64_t d = 0; d < out.dim; ++d) {
      const auto e = static_cast<size_t>(o * out.dim + d);
      const double diff = static_cast<double>(pred[e]) - static_cast<double>(truth[e]);
      sum += diff * diff;
      out.local_grad[e] = 2.0 * diff / dim;
    }
    out.values[static_cast<size_t>(o)] = sum / dim;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// BinaryCrossentropy

BinaryCrossentropy::BinaryCrossentropy() : BinaryCrossentropy(Args{}) {}

BinaryCrossentropy::BinaryCrossentropy(Args args)
    : Loss("BinaryCrossentropy", std::move(args.name), std::move(args.reduction)),
      from_logits_(args.from_logits),
      label_smoothing_(args.label_smoothing),
      axis_(args.axis) {}

std::unique_ptr<BinaryCrossentropy> BinaryCrossentropy::from_config(const Config& config) {
  ConfigReader reader(config, {"BinaryCrossentropy", config_layer_name(config)});
  Args args;
  read_loss_args(reader, args);
  args.from_logits = reader.get_bool("from_logits", false);
  args.label_smoothing = reader.get_number("label_smoothing", 0.0);
  args.axis = reader.get_int("axis", -1);
  reader.check_all_read();
  return std::make_unique<BinaryCrossentropy>(std::move(args));
}

std::unique_ptr<Loss> BinaryCrossentropy::clone() const {
  return std::make_unique<BinaryCrossentropy>(*this);
}

Config BinaryCrossentropy::get_config() const {
  Config config = Loss::get_config();
  config["from_logits"] = from_logits_;
  config["label_smoothing"] = label_smoothing_;
  config["axis"] = axis_;
  return config;
}

// values (outer, inner) = mean(bce, axis) over y_pred (outer, D, inner), D = y_pred.shape[axis].
Loss::PerSample BinaryCrossentropy::per_sample(const Tensor& y_true, const Tensor& y_pred) const {
  const auto [t, p] = aligned_shapes(y_true, y_pred);
  if (t != p) {
    // The backends' binary_crossentropy: "Arguments `target` and `output` must have the same
    // shape".
    throw_value_error(error_source(), "`y_true` and `y_pred` must have the same shape",
                      "y_true.shape == y_pred.shape, up to a trailing axis of length 1",
                      shapes_text(y_true, y_pred));
  }
  const auto rank = static_cast<int64_t>(p.size());
  if (axis_ < -rank || axis_ >= rank) {
    throw_value_error(error_source(), "`axis` is out of range for y_pred",
                      "an axis in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
                      "axis=" + std::to_string(axis_) + ", y_pred.shape=" + shape_to_string(p));
  }
  const auto axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
  const std::vector<float> truth = y_true.to_vector();
  const std::vector<float> pred = y_pred.to_vector();

  PerSample out;
  out.shape = p;
  out.shape.erase(out.shape.begin() + static_cast<std::ptrdiff_t>(axis));
  out.dim = p[axis];
  out.inner = product(p, axis + 1, p.size());
  const int64_t outer = product(p, 0, axis);
  const auto dim = static_cast<double>(out.dim);
  out.values.assign(static_cast<size_t>(outer * out.inner), 0.0);
  out.local_grad.resize(pred.size());
  const double smoothing = label_smoothing_;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < out.inner; ++i) {
      double sum = 0.0;
      for (int64_t d = 0; d < out.dim; ++d) {
        const auto e = static_cast<size_t>((o * out.dim + d) * out.inner + i);
        double z = static_cast<double>(truth[e]);
        // binary_crossentropy: `if label_smoothing:` smooths towards 0.5.
        if (smoothing != 0.0) z = z * (1.0 - smoothing) + 0.5 * smoothing;
        const double x = static_cast<double>(pred[e]);
        double loss = 0.0;
        double grad = 0.0;
        if (from_logits_) {
          // tf.nn.sigmoid_cross_entropy_with_logits' stable form; d/dx = sigmoid(x) - z.
          loss = std::max(x, 0.0) - x * z + std::log1p(std::exp(-std::fabs(x)));
          grad = 1.0 / (1.0 + std::exp(-x)) - z;
        } else {
          // q = clip(x, eps, 1 - eps); bce = -(z log q + (1 - z) log(1 - q)). The clip passes
          // the gradient where it does not bind (NaN included, so NaN propagates).
          const bool clipped = x < kClipLow || x > kClipHigh;
          const double q = x < kClipLow ? kClipLow : (x > kClipHigh ? kClipHigh : x);
          loss = -(z * std::log(q) + (1.0 - z) * std::log(1.0 - q));
          grad = clipped ? 0.0 : -(z / q - (1.0 - z) / (1.0 - q));
        }
        sum += loss;
        out.local_grad[e] = grad / dim;
      }
      out.values[static_cast<size_t>(o * out.inner + i)] = sum / dim;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SparseCategoricalCrossentropy

SparseCategoricalCrossentropy::SparseCategoricalCrossentropy()
    : SparseCategoricalCrossentropy(Args{}) {}

SparseCategoricalCrossentropy::SparseCategoricalCrossentropy(Args args)
    : Loss("SparseCategoricalCrossentropy", std::move(args.name), std::move(args.reduction)),
      from_logits_(args.from_logits),
      ignore_class_(args.ignore_class) {}

std::unique_ptr<SparseCategoricalCrossentropy> SparseCategoricalCrossentropy::from_config(
    const Config& config) {
  ConfigReader reader(config, {"SparseCategoricalCrossentropy", config_layer_name(config)});
  Args args;
  read_loss_args(reader, args);
  args.from_logits = reader.get_bool("from_logits", false);
  if (!reader.get("ignore_class", nullptr).is_null()) {
    args.ignore_class = reader.get_int("ignore_class", 0);
  }
  reader.check_all_read();
  return std::make_unique<SparseCategoricalCrossentropy>(std::move(args));
}

std::unique_ptr<Loss> SparseCategoricalCrossentropy::clone() const {
  return std::make_unique<SparseCategoricalCrossentropy>(*this);
}

Config SparseCategoricalCrossentropy::get_config() const {
  Config config = Loss::get_config();
  config["from_logits"] = from_logits_;
  config["ignore_class"] = ignore_class_ ? Config(*ignore_class_) : Config(nullptr);
  return config;
}

// values (N,) = -log p[label] over y_pred (N, C), N the number of labels.
Loss::PerSample SparseCategoricalCrossentropy::per_sample(const Tensor& y_true,
                                                          const Tensor& y_pred) const {
  auto [t, p] = aligned_shapes(y_true, y_pred);
  // sparse_categorical_crossentropy drops a trailing label axis of length 1.
  if (t.size() == p.size() && !t.empty() && t.back() == 1) t.pop_back();
  if (p.empty()) {
    throw_value_error(error_source(), "`y_pred` must be at least rank 1",
                      "y_pred of shape (..., num_classes)", "y_pred.shape=()");
  }
  if (t != Shape(p.begin(), p.end() - 1)) {
    throw_value_error(error_source(),
                      "`y_true` and `y_pred` must have the same shape up until the last dimension",
                      "y_true.shape == y_pred.shape[:-1], or that with a trailing axis of length 1",
                      shapes_text(y_true, y_pred));
  }
  const int64_t classes = p.back();
  const std::vector<float> labels = y_true.to_vector();
  const std::vector<float> pred = y_pred.to_vector();
  const auto count = static_cast<int64_t>(labels.size());

  // Every label is checked before anything is computed. Keras compares to ignore_class in the
  // float dtype of y_pred.
  std::vector<char> valid(labels.size(), 1);
  for (int64_t n = 0; n < count; ++n) {
    const float label = labels[static_cast<size_t>(n)];
    if (ignore_class_ && label == static_cast<float>(*ignore_class_)) {
      valid[static_cast<size_t>(n)] = 0;
      continue;
    }
    const bool integral = std::isfinite(label) && label == std::floor(label);
    if (!integral || label < 0.0f || static_cast<double>(label) >= static_cast<double>(classes)) {
      std::string expected =
          "integer class indices in [0, " + std::to_string(classes) + ") (y_pred.shape[-1])";
      if (ignore_class_) expected += " or ignore_class=" + std::to_string(*ignore_class_);
      throw_value_error(
          error_source(),
          integral ? "a label in `y_true` is out of range" : "labels in `y_true` must be integers",
          expected,
          "y_true" + index_text(y_true.shape(), n) + "=" +
              python_float(static_cast<double>(label)));
    }
  }

  PerSample out;
  out.shape = t;
  out.dim = classes;
  out.values.assign(labels.size(), 0.0);
  out.local_grad.assign(pred.size(), 0.0);
  if (ignore_class_) out.mask.assign(labels.size(), 0.0);
  for (int64_t n = 0; n < count; ++n) {
    if (!valid[static_cast<size_t>(n)]) continue;  // loss 0 (ops.where), no gradient
    if (ignore_class_) out.mask[static_cast<size_t>(n)] = 1.0;
    const auto label = static_cast<int64_t>(labels[static_cast<size_t>(n)]);
    const float* row = pred.data() + n * classes;
    double* grad = out.local_grad.data() + n * classes;
    if (from_logits_) {
      // -log_softmax(x)[label]; d/dx_j = softmax(x)_j - [j == label].
      double max = -INFINITY;
      for (int64_t j = 0; j < classes; ++j) max = std::max(max, static_cast<double>(row[j]));
      double total = 0.0;
      for (int64_t j = 0; j < classes; ++j) total += std::exp(static_cast<double>(row[j]) - max);
      const double log_total = max + std::log(total);
      out.values[static_cast<size_t>(n)] = log_total - static_cast<double>(row[label]);
      for (int64_t j = 0; j < classes; ++j) {
        grad[j] = std::exp(static_cast<double>(row[j]) - log_total) - (j == label ? 1.0 : 0.0);
      }
    } else {
      // p = y / s with s = sum(y); q = clip(p[label], eps, 1 - eps); loss = -log q.
      // d loss / d y_j = (-1 / q) * ([j == label] - p[label]) / s where the clip does not bind.
      double s = 0.0;
      for (int64_t j = 0; j < classes; ++j) s += static_cast<double>(row[j]);
      const double prob = static_cast<double>(row[label]) / s;
      const bool clipped = prob < kClipLow || prob > kClipHigh;
      const double q = prob < kClipLow ? kClipLow : (prob > kClipHigh ? kClipHigh : prob);
      out.values[static_cast<size_t>(n)] = -std::log(q);
      const double dq = clipped ? 0.0 : -1.0 / q;
      for (int64_t j = 0; j < classes; ++j) {
        grad[j] = dq * ((j == label ? 1.0 : 0.0) - prob) / s;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Serialization

namespace {

// keras.losses.ALL_OBJECTS_DICT entries kattn does not implement.
bool is_other_keras_loss(std::string_view name) {
  static constexpr std::string_view kOthers =
      " Loss KLDivergence Poisson BinaryFocalCrossentropy CategoricalCrossentropy"
      " CategoricalFocalCrossentropy MeanAbsoluteError MeanAbsolutePercentageError"
      " MeanSquaredLogarithmicError CosineSimilarity LogCosh Huber Hinge SquaredHinge"
      " CategoricalHinge Dice IoU Tversky Circle CTC CategoricalGeneralizedCrossEntropy"
      " kl_divergence poisson binary_focal_crossentropy categorical_crossentropy"
      " categorical_focal_crossentropy mean_absolute_error mean_absolute_percentage_error"
      " mean_squared_logarithmic_error cosine_similarity log_cosh huber hinge squared_hinge"
      " categorical_hinge dice iou tversky circle ctc kld KLD mae MAE mape MAPE msle MSLE ";
  std::string word = " ";  // appended, not "+"-built: GCC 12 reports a false -Wrestrict there
  word += name;
  word += " ";
  return !name.empty() && name.find(' ') == std::string_view::npos &&
         kOthers.find(word) != std::string_view::npos;
}

[[noreturn]] void refuse_loss(std::string_view name) {
  throw NotSupportedError(error_message(
      kLossSource, "unsupported loss",
      "one of the supported losses: MeanSquaredError (\"mse\", \"mean_squared_error\"), "
      "BinaryCrossentropy (\"bce\", \"binary_crossentropy\"), SparseCategoricalCrossentropy "
      "(\"sparse_categorical_crossentropy\")",
      "loss=" + std::string(name)));
}

[[noreturn]] void uninterpretable(const Config& identifier) {
  throw_value_error(kLossSource, "could not interpret loss identifier",
                    "a loss name or a serialized loss object", "identifier=" + identifier.dump());
}

// The class a Keras loss function name stands for: 0 none, 1 MSE, 2 BCE, 3 SCCE.
int function_kind(std::string_view name) {
  if (name == "mse" || name == "MSE" || name == "mean_squared_error") return 1;
  if (name == "bce" || name == "BCE" || name == "binary_crossentropy") return 2;
  if (name == "sparse_categorical_crossentropy") return 3;
  return 0;
}

std::unique_ptr<Loss> loss_from_function_name(const std::string& name) {
  switch (function_kind(name)) {
    case 1:
      return std::make_unique<MeanSquaredError>(MeanSquaredError::Args{.name = name});
    case 2:
      return std::make_unique<BinaryCrossentropy>(BinaryCrossentropy::Args{.name = name});
    case 3:
      return std::make_unique<SparseCategoricalCrossentropy>(
          SparseCategoricalCrossentropy::Args{.name = name});
    default:
      break;
  }
  if (is_other_keras_loss(name)) refuse_loss(name);
  uninterpretable(name);
}

std::unique_ptr<Loss> loss_from_class(std::string_view class_name, const Config& config) {
  if (class_name == "MeanSquaredError") return MeanSquaredError::from_config(config);
  if (class_name == "BinaryCrossentropy") return BinaryCrossentropy::from_config(config);
  if (class_name == "SparseCategoricalCrossentropy") {
    return SparseCategoricalCrossentropy::from_config(config);
  }
  if (is_other_keras_loss(class_name)) refuse_loss(class_name);
  uninterpretable(std::string(class_name));
}

// The function a serialized function refers to: {"class_name": "function", "config": name}, or
// a plain name.
std::string function_name(const Config& fn) {
  if (fn.is_string()) return fn.get<std::string>();
  if (config_string(fn, "class_name") == "function" && config_member(fn, "config").is_string()) {
    return fn["config"].get<std::string>();
  }
  uninterpretable(fn);
}

}  // namespace

std::unique_ptr<Loss> deserialize_loss(const Config& identifier) {
  if (identifier.is_string()) {
    const std::string name = identifier.get<std::string>();
    if (name == "MeanSquaredError") return std::make_unique<MeanSquaredError>();
    if (name == "BinaryCrossentropy") return std::make_unique<BinaryCrossentropy>();
    if (name == "SparseCategoricalCrossentropy") {
      return std::make_unique<SparseCategoricalCrossentropy>();
    }
    return loss_from_function_name(name);
  }
  if (!identifier.is_object() || !config_member(identifier, "class_name").is_string()) {
    uninterpretable(identifier);
  }
  const std::string class_name = identifier["class_name"].get<std::string>();
  const Config config = config_member(identifier, "config");
  if (class_name == "function") return loss_from_function_name(function_name(identifier));
  if (class_name == "LossFunctionWrapper") {
    // LossFunctionWrapper.get_config: name, reduction, the serialized `fn` and fn's keyword
    // arguments; the wrapped function's class reads the rest.
    if (!config.is_object() || !config.contains("fn")) uninterpretable(identifier);
    const std::string fn = function_name(config["fn"]);
    Config rest = config;
    rest.erase("fn");
    switch (function_kind(fn)) {
      case 1:
        return MeanSquaredError::from_config(rest);
      case 2:
        return BinaryCrossentropy::from_config(rest);
      case 3:
        return SparseCategoricalCrossentropy::from_config(rest);
      default:
        break;
    }
    if (is_other_keras_loss(fn)) refuse_loss(fn);
    uninterpretable(identifier);
  }
  return loss_from_class(class_name, config.is_null() ? Config::object() : config);
}

Config serialize_loss(const Loss& loss) {
  return Config{{"module", "keras.losses"},
                {"class_name", loss.class_name()},
                {"config", loss.get_config()},
                {"registered_name", nullptr}};
}

}  // namespace kattn
