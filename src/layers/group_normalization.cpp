// keras.layers.GroupNormalization.
#include "kattn/layers/group_normalization.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

// The inputs seen as (B, O, C, I): element (b, o, c, i) at ((b * O + o) * C + c) * I + i, with
// O the axes between the batch and the channels and I those after.
struct GroupNormalization::Groups {
  int64_t batch = 1, middle = 1, channels = 1, inner = 1, per_group = 1;

  // visit(at, c) for every element of group g of batch row b.
  template <typename Visit>
  void for_group(int64_t b, int64_t g, Visit&& visit) const {
    for (int64_t o = 0; o < middle; ++o) {
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        const int64_t base = ((b * middle + o) * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) visit(base + i, c);
      }
    }
  }
};

namespace {

struct GroupNormalizationSaved : detail::SavedForBackward {
  Tensor inputs;                   // contiguous
  std::vector<float> mean, rsqrt;  // per (batch row, group)
};

}  // namespace

GroupNormalization::GroupNormalization() : GroupNormalization(Args{}) {}

GroupNormalization::GroupNormalization(Args args)
    : UnaryLayer("GroupNormalization", LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kPassThrough, BuildRecord::kRecorded),
      groups_(args.groups),
      axis_(args.axis),
      epsilon_(args.epsilon),
      center_(args.center),
      scale_(args.scale),
      beta_(detail::resolved_weight_args(std::move(args.beta), Initializer::zeros())),
      gamma_(detail::resolved_weight_args(std::move(args.gamma), Initializer::ones())) {
  if (groups_ <= 0 && groups_ != -1) {
    throw_value_error(error_source(), "Received an invalid value for argument `groups`",
                      "a positive integer (or `-1` for instance normalization)",
                      "groups=" + std::to_string(groups_));
  }
}

std::unique_ptr<GroupNormalization> GroupNormalization::from_config(const Config& config) {
  ConfigReader reader(config, {"GroupNormalization", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.groups = reader.get_int("groups", 32);
  args.axis = reader.get_int("axis", -1);
  args.epsilon = reader.get_number("epsilon", 1e-3);
  args.center = reader.get_bool("center", true);
  args.scale = reader.get_bool("scale", true);
  args.beta = detail::read_weight_args(reader, "beta", "zeros");
  args.gamma = detail::read_weight_args(reader, "gamma", "ones");
  reader.check_all_read();
  return std::make_unique<GroupNormalization>(std::move(args));
}

int64_t GroupNormalization::resolved_axis(int64_t rank) const {
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 1 || axis >= rank) {
    throw_value_error(error_source(),
                      "Axis " + std::to_string(axis_) + " is out of bounds for the inputs",
                      "a non-batch axis of inputs of rank " + std::to_string(rank),
                      "axis=" + std::to_string(axis_));
  }
  return axis;
}

Shape GroupNormalization::compute_output_shape(const Shape& input_shape) const {
  resolved_axis(static_cast<int64_t>(input_shape.size()));
  return input_shape;
}

void GroupNormalization::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void GroupNormalization::build_weights(const Shape& input_shape) {
  const int64_t dim =
      input_shape[static_cast<size_t>(resolved_axis(static_cast<int64_t>(input_shape.size())))];
  if (dim < 0) {
    throw_value_error(
        error_source(),
        "Axis " + std::to_string(axis_) + " of input tensor should have a defined dimension",
        "a known size", "input_shape=" + detail::keras_shape(input_shape));
  }
  if (groups_ == -1) groups_ = dim;
  if (dim < groups_) {
    throw_value_error(error_source(),
                      "Number of groups (" + std::to_string(groups_) +
                          ") cannot be more than the number of channels (" + std::to_string(dim) +
                          ")",
                      "groups <= channels", "groups=" + std::to_string(groups_));
  }
  if (dim % groups_ != 0) {
    throw_value_error(error_source(),
                      "Number of groups (" + std::to_string(groups_) +
                          ") must be a multiple of the number of channels (" + std::to_string(dim) +
                          ")",
                      "channels divisible by groups", "groups=" + std::to_string(groups_));
  }
  if (scale_) add_weight("gamma", {dim}, gamma_);
  if (center_) add_weight("beta", {dim}, beta_);
}

GroupNormalization::Groups GroupNormalization::grouping(const Tensor& inputs) const {
  build_once([&] { const_cast<GroupNormalization*>(this)->build_weights(inputs.shape()); });
  const int64_t axis = resolved_axis(inputs.rank());
  Groups groups;
  for (int64_t a = 0; a < inputs.rank(); ++a) {
    if (a == 0) groups.batch = inputs.dim(0);
    if (a > 0 && a < axis) groups.middle *= inputs.dim(a);
    if (a > axis) groups.inner *= inputs.dim(a);
  }
  groups.channels = inputs.dim(axis);
  if (groups.channels % groups_ != 0 || groups.channels < groups_ ||
      (!weights().empty() && weights()[0].value.dim(0) != groups.channels)) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "the channel count the layer was built for on axis " + std::to_string(axis_),
                      "shape=" + detail::keras_shape(inputs.shape()));
  }
  groups.per_group = groups.channels / groups_;
  return groups;
}

LayerForward GroupNormalization::forward(const Tensor& inputs) const {
  const Groups groups = grouping(inputs);
  auto saved = std::make_shared<GroupNormalizationSaved>();
  saved->layer = this;
  saved->inputs = inputs.contiguous();
  const float* x = saved->inputs.data();
  const Tensor* gamma = scale_ ? &weights()[0].value : nullptr;
  const Tensor* beta = center_ ? &weights()[scale_ ? 1 : 0].value : nullptr;
  Tensor y(inputs.shape());
  for (int64_t b = 0; b < groups.batch; ++b) {
    for (int64_t g = 0; g < groups_; ++g) {
      // ops.moments: E[x^2] - E[x]^2, in float32
      double sum = 0.0, squares = 0.0, count = 0.0;
      groups.for_group(b, g, [&](int64_t at, int64_t) {
        sum += x[at];
        squares += double(x[at]) * x[at];
        count += 1.0;
      });
      const auto mean = static_cast<float>(sum / count);
      const float variance = static_cast<float>(squares / count) - mean * mean;
      const float r = 1.0f / std::sqrt(variance + static_cast<float>(epsilon_));
      saved->mean.push_back(mean);
      saved->rsqrt.push_back(r);
      groups.for_group(b, g, [&](int64_t at, int64_t c) {
        const float inv = gamma != nullptr ? r * gamma->data()[c] : r;
        float res = -mean * inv;
        if (beta != nullptr) res += beta->data()[c];
        y.data()[at] = x[at] * inv + res;
      });
    }
  }
  return {std::move(y), std::move(saved)};
}

Tensor GroupNormalization::call(const Tensor& inputs) const { return forward(inputs).output; }

Tensor GroupNormalization::backward(const LayerForward& forward, const Tensor& d_output,
                                    std::vector<Tensor>& weight_gradients) const {
  const auto& saved = detail::saved_for_backward<GroupNormalizationSaved>(*this, forward, d_output,
                                                                          weight_gradients);
  const Groups groups = grouping(saved.inputs);
  const float* x = saved.inputs.data();
  const Tensor dy = d_output.contiguous();
  const float* gamma = scale_ ? weights()[0].value.data() : nullptr;
  float* d_gamma = scale_ ? weight_gradients[0].data() : nullptr;
  float* d_beta = center_ ? weight_gradients[scale_ ? 1 : 0].data() : nullptr;
  Tensor d(saved.inputs.shape());
  size_t index = 0;
  for (int64_t b = 0; b < groups.batch; ++b) {
    for (int64_t g = 0; g < groups_; ++g, ++index) {
      const double mean = saved.mean[index];
      const double r = saved.rsqrt[index];
      double sum_dz = 0.0, sum_dz_xhat = 0.0, n = 0.0;
      groups.for_group(b, g, [&](int64_t at, int64_t c) {
        const double xhat = (x[at] - mean) * r;
        const double dz = gamma != nullptr ? dy.data()[at] * gamma[c] : dy.data()[at];
        sum_dz += dz;
        sum_dz_xhat += dz * xhat;
        n += 1.0;
        if (d_gamma != nullptr) d_gamma[c] += static_cast<float>(dy.data()[at] * xhat);
        if (d_beta != nullptr) d_beta[c] += dy.data()[at];
      });
      groups.for_group(b, g, [&](int64_t at, int64_t c) {
        const double xhat = (x[at] - mean) * r;
        const double dz = gamma != nullptr ? dy.data()[at] * gamma[c] : dy.data()[at];
        d.data()[at] = static_cast<float>(r * (dz - sum_dz / n - xhat * sum_dz_xhat / n));
      });
    }
  }
  return d;
}

Config GroupNormalization::get_config() const {
  Config config = Layer::get_config();
  config["groups"] = groups_;
  config["axis"] = axis_;
  config["epsilon"] = epsilon_;
  config["center"] = center_;
  config["scale"] = scale_;
  detail::write_weight_args(config, "beta", beta_);
  detail::write_weight_args(config, "gamma", gamma_);
  return config;
}

}  // namespace kattn
