// keras.layers.BatchNormalization.
#include "kattn/layers/batch_normalization.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "core/node_inputs.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// keras.backend.epsilon(), which the masked moments add to the count.
constexpr double kMaskedCountEpsilon = 1e-7;

// The inputs seen as (outer, C, inner): channel c of position (o, i) at (o * C + c) * inner + i.
struct Layout {
  int64_t outer = 1, channels = 1, inner = 1;

  Layout(const Shape& shape, int64_t axis) {
    for (int64_t a = 0; a < static_cast<int64_t>(shape.size()); ++a) {
      const int64_t dim = shape[static_cast<size_t>(a)];
      if (a < axis) outer *= dim;
      if (a == axis) channels = dim;
      if (a > axis) inner *= dim;
    }
  }
  template <typename Visit>
  void for_channel(int64_t c, Visit&& visit) const {
    for (int64_t o = 0; o < outer; ++o) {
      const int64_t base = (o * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) visit(base + i);
    }
  }
};

}  // namespace

// The statistics a call normalises with, and how they depend on the inputs (training calls).
struct BatchNormalization::Statistics {
  std::vector<float> mean, variance;  // (C,)
  bool from_batch = false;
  std::vector<float> weights;         // per element, 1 or 0 (the mask), when masked
  std::vector<double> count_inverse;  // per channel: 1 / N, or 1 / (sum(m) + 1e-7) when masked
};

namespace {

struct BatchNormalizationSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
  int64_t axis = 0;
  std::vector<float> mean, variance, weights;
  std::vector<double> count_inverse;
  bool from_batch = false;
};

}  // namespace

BatchNormalization::BatchNormalization() : BatchNormalization(Args{}) {}

BatchNormalization::BatchNormalization(Args args)
    : UnaryLayer("BatchNormalization", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kPassThrough, BuildRecord::kRecorded),
      axis_(args.axis),
      momentum_(args.momentum),
      epsilon_(args.epsilon),
      center_(args.center),
      scale_(args.scale),
      beta_(detail::resolved_weight_args(std::move(args.beta), Initializer::zeros())),
      gamma_(detail::resolved_weight_args(std::move(args.gamma), Initializer::ones())),
      moving_mean_initializer_(args.moving_mean_initializer.value_or(Initializer::zeros())),
      moving_variance_initializer_(args.moving_variance_initializer.value_or(Initializer::ones())),
      renorm_clipping_(std::move(args.renorm_clipping)),
      renorm_momentum_(args.renorm_momentum) {}

std::unique_ptr<BatchNormalization> BatchNormalization::from_config(const Config& config) {
  ConfigReader reader(config, {"BatchNormalization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = reader.get_int("axis", -1);
  args.momentum = reader.get_number("momentum", 0.99);
  args.epsilon = reader.get_number("epsilon", 1e-3);
  args.center = reader.get_bool("center", true);
  args.scale = reader.get_bool("scale", true);
  args.beta = detail::read_weight_args(reader, "beta", "zeros");
  args.gamma = detail::read_weight_args(reader, "gamma", "ones");
  args.moving_mean_initializer =
      Initializer::from_config(reader.get("moving_mean_initializer", "zeros"));
  args.moving_variance_initializer =
      Initializer::from_config(reader.get("moving_variance_initializer", "ones"));
  for (const char* flag : {"synchronized", "renorm"}) {
    if (reader.get_bool(flag, false)) {
      throw NotSupportedError(error_message(reader.source(), "unsupported argument",
                                            std::string(flag) + "=False",
                                            std::string(flag) + "=True"));
    }
  }
  // Unused with renorm=False, as in Keras, and written back as given.
  args.renorm_clipping = reader.get("renorm_clipping", nullptr);
  args.renorm_momentum = reader.get_number("renorm_momentum", 0.99);
  reader.check_all_read();
  return std::make_unique<BatchNormalization>(std::move(args));
}

int64_t BatchNormalization::resolved_axis(int64_t rank) const {
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 0 || axis >= rank) {
    throw_value_error(
        error_source(), "Axis " + std::to_string(axis_) + " is out of bounds for the inputs",
        "an axis in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
        "axis=" + std::to_string(axis_) + " for inputs of rank " + std::to_string(rank));
  }
  return axis;
}

Shape BatchNormalization::compute_output_shape(const Shape& input_shape) const {
  resolved_axis(static_cast<int64_t>(input_shape.size()));
  return input_shape;
}

void BatchNormalization::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void BatchNormalization::build_weights(const Shape& input_shape) {
  const int64_t axis = resolved_axis(static_cast<int64_t>(input_shape.size()));
  const int64_t channels = input_shape[static_cast<size_t>(axis)];
  if (channels < 0) {
    throw_value_error(error_source(), "the normalised axis of the inputs must be known",
                      "a known size on axis " + std::to_string(axis_),
                      "input_shape=" + keras_shape(input_shape));
  }
  const Shape shape{channels};
  if (scale_) add_weight("gamma", shape, gamma_);
  if (center_) add_weight("beta", shape, beta_);
  add_weight("moving_mean", shape, moving_mean_initializer_, false);
  add_weight("moving_variance", shape, moving_variance_initializer_, false);
}

const Tensor* BatchNormalization::weight_named(const std::string& name) const {
  for (const Variable& variable : weights()) {
    if (variable.name == name) return &variable.value;
  }
  return nullptr;
}

int64_t BatchNormalization::prepare(const Tensor& inputs, const std::optional<Mask>& mask) const {
  build_once([&] { const_cast<BatchNormalization*>(this)->build_weights(inputs.shape()); });
  const int64_t axis = resolved_axis(inputs.rank());
  if (inputs.dim(axis) != weight_named("moving_mean")->dim(0)) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "size " + std::to_string(weight_named("moving_mean")->dim(0)) + " on axis " +
                          std::to_string(axis_),
                      "shape=" + keras_shape(inputs.shape()));
  }
  if (mask && mask->rank() != inputs.rank() - 1) {
    throw_value_error(error_source(),
                      "The mask provided should be one dimension less than the inputs",
                      "a mask of rank " + std::to_string(inputs.rank() - 1),
                      "mask.shape=" + keras_shape(mask->shape()) +
                          ", inputs.shape=" + keras_shape(inputs.shape()));
  }
  return axis;
}

LayerForward BatchNormalization::normalize(const Tensor& inputs, int64_t axis,
                                           Statistics statistics) const {
  auto saved = std::make_shared<BatchNormalizationSaved>();
  saved->layer = this;
  saved->inputs = inputs.contiguous();
  saved->axis = axis;
  const Layout layout(inputs.shape(), axis);
  const Tensor* gamma = weight_named("gamma");
  const Tensor* beta = weight_named("beta");
  Tensor output(inputs.shape());
  for (int64_t c = 0; c < layout.channels; ++c) {
    // ops.batch_normalization: inv = 1 / sqrt(variance + epsilon) * gamma,
    // res = -mean * inv + beta, y = x * inv + res, in float32.
    float inv = 1.0f / std::sqrt(statistics.variance[static_cast<size_t>(c)] +
                                 static_cast<float>(epsilon_));
    if (gamma != nullptr) inv *= gamma->data()[c];
    float res = -statistics.mean[static_cast<size_t>(c)] * inv;
    if (beta != nullptr) res += beta->data()[c];
    layout.for_channel(
        c, [&](int64_t at) { output.data()[at] = saved->inputs.data()[at] * inv + res; });
  }
  saved->mean = std::move(statistics.mean);
  saved->variance = std::move(statistics.variance);
  saved->weights = std::move(statistics.weights);
  saved->count_inverse = std::move(statistics.count_inverse);
  saved->from_batch = statistics.from_batch;
  return {std::move(output), std::move(saved)};
}

LayerForward BatchNormalization::forward_inference(const Tensor& inputs,
                                                   const std::optional<Mask>& mask) const {
  const int64_t axis = prepare(inputs, mask);
  Statistics statistics;
  statistics.mean = weight_named("moving_mean")->to_vector();
  statistics.variance = weight_named("moving_variance")->to_vector();
  return normalize(inputs, axis, std::move(statistics));
}

Tensor BatchNormalization::call_masked(const Tensor& inputs,
                                       const std::optional<Mask>& mask) const {
  return forward_inference(inputs, mask).output;
}

LayerForward BatchNormalization::forward_masked(const Tensor& inputs,
                                                const std::optional<Mask>& mask) const {
  if (!trainable()) return forward_inference(inputs, mask);
  const int64_t axis = prepare(inputs, mask);
  const Tensor x = inputs.contiguous();
  const Layout layout(x.shape(), axis);
  Statistics statistics;
  statistics.from_batch = true;
  if (mask) {
    // The mask stretched over the last axis: element e takes mask[e / last].
    const Mask m = mask->contiguous();
    const int64_t last = x.rank() > 0 ? x.dim(-1) : 1;
    statistics.weights.resize(static_cast<size_t>(x.size()));
    for (int64_t e = 0; e < x.size(); ++e) {
      statistics.weights[static_cast<size_t>(e)] = m.data()[e / last] ? 1.0f : 0.0f;
    }
  }
  for (int64_t c = 0; c < layout.channels; ++c) {
    double count = 0.0, sum = 0.0;
    layout.for_channel(c, [&](int64_t at) {
      const double w = mask ? statistics.weights[static_cast<size_t>(at)] : 1.0;
      count += w;
      sum += w * x.data()[at];
    });
    double variance = 0.0;
    if (mask) {
      const double inverse = 1.0 / (count + kMaskedCountEpsilon);
      const double mean = sum * inverse;
      double squares = 0.0;
      layout.for_channel(c, [&](int64_t at) {
        const double d = x.data()[at] - mean;
        squares += statistics.weights[static_cast<size_t>(at)] * d * d;
      });
      statistics.count_inverse.push_back(inverse);
      statistics.mean.push_back(static_cast<float>(mean));
      variance = squares * inverse;
    } else {
      // ops.moments: E[x^2] - E[x]^2.
      const double inverse = 1.0 / count;
      double squares = 0.0;
      layout.for_channel(c, [&](int64_t at) { squares += double(x.data()[at]) * x.data()[at]; });
      const auto mean = static_cast<float>(sum * inverse);
      statistics.count_inverse.push_back(inverse);
      statistics.mean.push_back(mean);
      variance = static_cast<float>(squares * inverse) - mean * mean;
    }
    statistics.variance.push_back(static_cast<float>(variance));
  }
  // moving = moving * momentum + batch * (1 - momentum), as Keras assigns it in call().
  for (const char* name : {"moving_mean", "moving_variance"}) {
    const bool is_mean = std::string(name) == "moving_mean";
    const std::vector<float>& batch = is_mean ? statistics.mean : statistics.variance;
    Tensor updated = weight_named(name)->clone();
    const auto momentum = static_cast<float>(momentum_);
    for (int64_t c = 0; c < updated.size(); ++c) {
      updated.data()[c] = updated.data()[c] * momentum +
                          batch[static_cast<size_t>(c)] * static_cast<float>(1.0 - momentum_);
    }
    for (size_t i = 0; i < weights().size(); ++i) {
      if (weights()[i].name == name) assign_state(i, std::move(updated));
    }
  }
  return normalize(x, axis, std::move(statistics));
}

Tensor BatchNormalization::backward(const LayerForward& forward, const Tensor& d_output,
                                    std::vector<Tensor>& weight_gradients) const {
  const auto& saved = detail::saved_for_backward<BatchNormalizationSaved>(*this, forward, d_output,
                                                                          weight_gradients);
  const Tensor& x = saved.inputs;
  const Tensor dy = d_output.contiguous();
  const Layout layout(x.shape(), saved.axis);
  const Tensor* gamma = weight_named("gamma");
  float* d_gamma = nullptr;
  float* d_beta = nullptr;
  for (size_t i = 0; i < weights().size(); ++i) {
    if (weights()[i].name == "gamma") d_gamma = weight_gradients[i].data();
    if (weights()[i].name == "beta") d_beta = weight_gradients[i].data();
  }
  Tensor d_inputs(x.shape());
  for (int64_t c = 0; c < layout.channels; ++c) {
    const auto ci = static_cast<size_t>(c);
    const double g = gamma != nullptr ? gamma->data()[c] : 1.0;
    const double mean = saved.mean[ci];
    const double r = 1.0 / std::sqrt(double(saved.variance[ci]) + epsilon_);
    // y = (x - mean) r g + beta. Sums over the channel: D1 = sum(dy), D2 = sum(dy (x - mean)),
    // S1 = sum(m (x - mean)).
    double d1 = 0.0, d2 = 0.0, s1 = 0.0;
    layout.for_channel(c, [&](int64_t at) {
      const double centred = x.data()[at] - mean;
      d1 += dy.data()[at];
      d2 += dy.data()[at] * centred;
      s1 += (saved.weights.empty() ? 1.0 : saved.weights[static_cast<size_t>(at)]) * centred;
    });
    if (d_gamma != nullptr) d_gamma[c] += static_cast<float>(d2 * r);
    if (d_beta != nullptr) d_beta[c] += static_cast<float>(d1);
    const double k = saved.from_batch ? saved.count_inverse[ci] : 0.0;
    layout.for_channel(c, [&](int64_t at) {
      // d mean / dx = m k; d var / dx = 2 m k (x - mean) - 2 k^2 S1 m; d r / d var = -r^3 / 2.
      const double m = saved.weights.empty() ? 1.0 : saved.weights[static_cast<size_t>(at)];
      const double centred = x.data()[at] - mean;
      double d = g * r * dy.data()[at];
      if (saved.from_batch) {
        d -= g * r * m * k * d1;
        d -= g * r * r * r * d2 * (m * k * centred - k * k * s1 * m);
      }
      d_inputs.data()[at] = static_cast<float>(d);
    });
  }
  return d_inputs;
}

const std::vector<std::string>& BatchNormalization::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs", "training", "mask"};
  return parameters;
}

std::vector<ValuePtr> BatchNormalization::call_node(const ValueArguments& arguments,
                                                    const RunContext& context) const {
  if (!arguments.flag("training", context.training))
    return UnaryLayer::call_node(arguments, context);
  const ValuePtr& x = arguments.tensor("inputs");
  const Tensor& inputs = detail::float_input(*x, error_source(), "inputs");
  const std::optional<Mask> mask = call_mask(arguments);
  return {make_value(forward_masked(inputs, mask).output, mask)};
}

OperationForward BatchNormalization::forward_node(const ValueArguments& arguments,
                                                  const RunContext& context) const {
  if (arguments.flag("training", context.training)) {
    return UnaryLayer::forward_node(arguments, context);
  }
  const ValuePtr& x = arguments.tensor("inputs");
  const Tensor& inputs = detail::float_input(*x, error_source(), "inputs");
  const std::optional<Mask> mask = call_mask(arguments);
  LayerForward saved = forward_inference(inputs, mask);
  return {{make_value(saved.output, mask)}, detail::save_call(*this, std::move(saved))};
}

Config BatchNormalization::get_config() const {
  Config config = Layer::get_config();
  config["axis"] = axis_;
  config["momentum"] = momentum_;
  config["epsilon"] = epsilon_;
  config["center"] = center_;
  config["scale"] = scale_;
  detail::write_weight_args(config, "beta", beta_);
  detail::write_weight_args(config, "gamma", gamma_);
  config["moving_mean_initializer"] = moving_mean_initializer_.get_config();
  config["moving_variance_initializer"] = moving_variance_initializer_.get_config();
  config["synchronized"] = false;
  config["renorm"] = false;
  config["renorm_clipping"] = renorm_clipping_;
  config["renorm_momentum"] = renorm_momentum_;
  return config;
}

}  // namespace kattn
