// keras.layers.LayerNormalization: LayerNormalization.build and ops.layer_normalization on the
// numpy backend.
#include "kattn/layers/layer_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "core/axis_groups.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// The element offsets of every index over `axes` of a contiguous `shape`, in row-major order of
// those axes (the order gamma's values take after Keras reshapes it to the broadcast shape).
struct LayerNormalizationSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
  std::vector<int64_t> axes;
  std::vector<float> means;
  std::vector<float> rsqrts;  // 1 / sqrt(var + epsilon)
};

}  // namespace

LayerNormalization::LayerNormalization() : LayerNormalization(Args{}) {}

LayerNormalization::LayerNormalization(Args args)
    : UnaryLayer("LayerNormalization", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kPassThrough, BuildRecord::kRecorded),
      axis_(std::move(args.axis)),
      epsilon_(args.epsilon),
      center_(args.center),
      scale_(args.scale),
      rms_scaling_(args.rms_scaling),
      beta_(detail::resolved_weight_args(std::move(args.beta), Initializer::zeros())),
      gamma_(detail::resolved_weight_args(std::move(args.gamma), Initializer::ones())) {}

std::unique_ptr<LayerNormalization> LayerNormalization::from_config(const Config& config) {
  ConfigReader reader(config, {"LayerNormalization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = IntOrList::read(reader, "axis", -1);
  args.epsilon = reader.get_number("epsilon", 1e-3);
  args.center = reader.get_bool("center", true);
  args.scale = reader.get_bool("scale", true);
  args.rms_scaling = reader.get_bool("rms_scaling", false);
  args.beta = detail::read_weight_args(reader, "beta", "zeros");
  args.gamma = detail::read_weight_args(reader, "gamma", "ones");
  reader.check_all_read();
  return std::make_unique<LayerNormalization>(std::move(args));
}

void LayerNormalization::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void LayerNormalization::build_weights(const Shape& input_shape) {
  const std::vector<int64_t> axes = axis_.resolve_axes(input_shape, error_source());
  Shape dims;
  for (const int64_t axis : axes) dims.push_back(input_shape[static_cast<size_t>(axis)]);
  if (std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; })) {
    throw_value_error(error_source(), "the normalised axes of the inputs must be known",
                      "known dimensions on axis=" + axis_.to_string(),
                      "shape=" + keras_shape(input_shape));
  }
  // LayerNormalization.build: gamma, then beta, shaped (input_shape[a] for a in axis).
  if (scale_ || rms_scaling_) add_weight("gamma", dims, gamma_);
  if (center_ && !rms_scaling_) add_weight("beta", dims, beta_);
  built_dims_ = dims;
  // Keras 3.16 keeps the axes as a list of non-negative axes after build (its saved configs
  // hold "axis": [2] for rank-3 inputs); earlier releases keep them as given, in a list.
  axis_ = IntOrList(keeps_given_axes_ ? axis_.values : axes);
}

void LayerNormalization::follow_keras_version(const KerasVersion& version) {
  keeps_given_axes_ = version < KerasVersion{3, 16, 0};
}

Shape LayerNormalization::compute_output_shape(const Shape& input_shape) const {
  axis_.resolve_axes(input_shape, error_source());
  return input_shape;
}

std::vector<int64_t> LayerNormalization::prepare(const Tensor& inputs) const {
  build_once([&] { const_cast<LayerNormalization*>(this)->build_weights(inputs.shape()); });
  std::vector<int64_t> axes = axis_.resolve_axes(inputs.shape(), error_source());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (inputs.dim(axes[i]) != built_dims_[i]) {
      throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                        "dimensions " + keras_shape(built_dims_) + " on axis=" + axis_.to_string(),
                        "shape=" + keras_shape(inputs.shape()));
    }
  }
  // ops.layer_normalization sorts the axes and reshapes gamma and beta to the broadcast shape,
  // so their values run in row-major order over the sorted axes.
  std::sort(axes.begin(), axes.end());
  return axes;
}

Tensor LayerNormalization::normalize(const Tensor& x, const std::vector<int64_t>& axes,
                                     std::vector<float>* means, std::vector<float>* rsqrts) const {
  const auto [outer, inner] = detail::axis_groups(x.shape(), axes);
  const float* gamma = nullptr;
  const float* beta = nullptr;
  for (const Variable& variable : weights()) {
    (variable.name == "gamma" ? gamma : beta) = variable.value.data();
  }
  const auto n = static_cast<float>(inner.size());
  const auto epsilon = static_cast<float>(epsilon_);

  Tensor output(x.shape());
  const float* in = x.data();
  float* out = output.data();
  for (const int64_t base : outer) {
    float sum = 0.0f;
    for (const int64_t offset : inner) sum += in[base + offset];
    const float mean = sum / n;
    if (means != nullptr) means->push_back(mean);
    if (rms_scaling_) {
      // np.var: the mean of squared deviations; then x * rsqrt(var + epsilon) * gamma.
      float squares = 0.0f;
      for (const int64_t offset : inner) {
        const float deviation = in[base + offset] - mean;
        squares += deviation * deviation;
      }
      const float inv = 1.0f / std::sqrt(squares / n + epsilon);
      if (rsqrts != nullptr) rsqrts->push_back(inv);
      for (size_t j = 0; j < inner.size(); ++j) {
        out[base + inner[j]] = in[base + inner[j]] * inv * gamma[j];
      }
      continue;
    }
    // ops.moments on the numpy backend: var = E[x^2] - E[x]^2.
    float squares = 0.0f;
    for (const int64_t offset : inner) squares += in[base + offset] * in[base + offset];
    const float variance = squares / n - mean * mean;
    const float rsqrt = 1.0f / std::sqrt(variance + epsilon);
    if (rsqrts != nullptr) rsqrts->push_back(rsqrt);
    for (size_t j = 0; j < inner.size(); ++j) {
      const float inv = gamma != nullptr ? rsqrt * gamma[j] : rsqrt;
      const float res = beta != nullptr ? -mean * inv + beta[j] : -mean * inv;
      out[base + inner[j]] = in[base + inner[j]] * inv + res;
    }
  }
  return output;
}

Tensor LayerNormalization::call(const Tensor& inputs) const {
  const std::vector<int64_t> axes = prepare(inputs);
  return normalize(inputs.contiguous(), axes, nullptr, nullptr);
}

LayerForward LayerNormalization::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<LayerNormalizationSaved>();
  saved->layer = this;
  saved->axes = prepare(inputs);
  saved->inputs = inputs.contiguous();
  return {normalize(saved->inputs, saved->axes, &saved->means, &saved->rsqrts), std::move(saved)};
}

Tensor LayerNormalization::backward(const LayerForward& forward, const Tensor& d_output,
                                    std::vector<Tensor>& weight_gradients) const {
  const auto& saved = detail::saved_for_backward<LayerNormalizationSaved>(*this, forward, d_output,
                                                                          weight_gradients);
  const auto [outer, inner] = detail::axis_groups(saved.inputs.shape(), saved.axes);
  const float* gamma = nullptr;
  float* d_gamma = nullptr;
  float* d_beta = nullptr;
  for (size_t i = 0; i < weights().size(); ++i) {
    if (weights()[i].name == "gamma") {
      gamma = weights()[i].value.data();
      d_gamma = weight_gradients[i].data();
    } else {
      d_beta = weight_gradients[i].data();
    }
  }
  const auto n = static_cast<float>(inner.size());

  const Tensor dy_all = d_output.contiguous();
  Tensor d_inputs(saved.inputs.shape());
  const float* in = saved.inputs.data();
  const float* dy = dy_all.data();
  float* dx = d_inputs.data();
  for (size_t group = 0; group < outer.size(); ++group) {
    const int64_t base = outer[group];
    const float mean = saved.means[group];
    const float r = saved.rsqrts[group];
    if (rms_scaling_) {
      // y = x * r * gamma, r = (var + epsilon)^(-1/2), d var / d x = 2 (x - mean) / n.
      float dot = 0.0f;  // sum of dy * gamma * x
      for (size_t j = 0; j < inner.size(); ++j) {
        const int64_t at = base + inner[j];
        dot += dy[at] * gamma[j] * in[at];
      }
      for (size_t j = 0; j < inner.size(); ++j) {
        const int64_t at = base + inner[j];
        dx[at] = r * gamma[j] * dy[at] - r * r * r * (in[at] - mean) * dot / n;
        d_gamma[j] += dy[at] * in[at] * r;
      }
      continue;
    }
    // y = x * inv + (beta - mean * inv), inv = gamma * r: y = xhat * gamma + beta with
    // xhat = (x - mean) * r, whatever form var takes.
    float sum_dz = 0.0f, sum_dz_xhat = 0.0f;
    for (size_t j = 0; j < inner.size(); ++j) {
      const int64_t at = base + inner[j];
      const float dz = gamma != nullptr ? dy[at] * gamma[j] : dy[at];
      sum_dz += dz;
      sum_dz_xhat += dz * (in[at] - mean) * r;
    }
    for (size_t j = 0; j < inner.size(); ++j) {
      const int64_t at = base + inner[j];
      const float xhat = (in[at] - mean) * r;
      const float dz = gamma != nullptr ? dy[at] * gamma[j] : dy[at];
      dx[at] = r * (dz - sum_dz / n - xhat * sum_dz_xhat / n);
      if (d_gamma != nullptr) d_gamma[j] += dy[at] * xhat;
      if (d_beta != nullptr) d_beta[j] += dy[at];
    }
  }
  return d_inputs;
}

Config LayerNormalization::get_config() const {
  Config config = Layer::get_config();
  config["axis"] = axis_.to_json();
  config["epsilon"] = epsilon_;
  config["center"] = center_;
  config["scale"] = scale_;
  config["rms_scaling"] = rms_scaling_;
  detail::write_weight_args(config, "beta", beta_);
  detail::write_weight_args(config, "gamma", gamma_);
  return config;
}

}  // namespace kattn
