// keras.layers.GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D over Keras's
// BaseGlobalPooling.
#include "kattn/layers/pooling.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

struct PoolingSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
  std::optional<Mask> mask;
  Tensor output;
};

}  // namespace

BaseGlobalPooling::BaseGlobalPooling(std::string class_name, size_t pool_dimensions, Args args)
    : UnaryLayer(std::move(class_name), LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kDrop, BuildRecord::kNotRecorded),
      pool_dimensions_(pool_dimensions),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)),
      keepdims_(args.keepdims) {
  // BaseGlobalPooling.__init__: self._build_at_init(); there is nothing to build.
  build_once([] {});
}

BaseGlobalPooling::Args BaseGlobalPooling::read_args(const Config& config,
                                                     std::string_view class_name) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  // null is Keras's default image_data_format.
  if (!reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", "channels_last");
  }
  args.keepdims = reader.get_bool("keepdims", false);
  reader.check_all_read();
  return args;
}

void BaseGlobalPooling::check_rank(const Shape& input_shape) const {
  const size_t ndim = pool_dimensions_ + 2;
  if (input_shape.size() == ndim) return;
  throw_value_error(
      error_source(), "Input 0 is incompatible with the layer", "ndim=" + std::to_string(ndim),
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + keras_shape(input_shape));
}

int64_t BaseGlobalPooling::cells(const Shape& input_shape) const {
  const size_t first = data_format_ == "channels_last" ? 1 : 2;
  int64_t n = 1;
  for (size_t axis = first; axis < first + pool_dimensions_; ++axis) n *= input_shape[axis];
  return n;
}

Shape BaseGlobalPooling::compute_output_shape(const Shape& input_shape) const {
  check_rank(input_shape);
  const bool last = data_format_ == "channels_last";
  const int64_t channels = input_shape[last ? input_shape.size() - 1 : 1];
  if (!keepdims_) return {input_shape[0], channels};
  Shape output(input_shape.size(), 1);
  output[0] = input_shape[0];
  output[last ? output.size() - 1 : 1] = channels;
  return output;
}

Tensor BaseGlobalPooling::pool(const Tensor& inputs,
                               const std::function<float(int64_t b, const float* first, int64_t n,
                                                         int64_t stride)>& reduce) const {
  Tensor output(compute_output_shape(inputs.shape()));
  const Tensor x = inputs.contiguous();
  const bool last = data_format_ == "channels_last";
  const int64_t B = x.dim(0), N = cells(x.shape()), C = x.dim(last ? x.rank() - 1 : 1);
  // channels_last (B, ..., C): a (b, c) pair's cells are C apart; channels_first (B, C, ...): 1.
  float* out = output.data();  // (B, C) whatever the kept axes
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const float* first = x.data() + b * N * C + (last ? c : c * N);
      out[b * C + c] = reduce(b, first, N, last ? C : 1);
    }
  }
  return output;
}

Tensor BaseGlobalPooling::unpool(
    const Tensor& x, const Tensor& d_output,
    const std::function<void(int64_t b, int64_t c, float d, const float* first, float* d_first,
                             int64_t n, int64_t stride)>& spread) const {
  Tensor d_inputs(x.shape());
  const Tensor d = d_output.contiguous();
  const bool last = data_format_ == "channels_last";
  const int64_t B = x.dim(0), N = cells(x.shape()), C = x.dim(last ? x.rank() - 1 : 1);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t first = b * N * C + (last ? c : c * N);
      spread(b, c, d.data()[b * C + c], x.data() + first, d_inputs.data() + first, N, last ? C : 1);
    }
  }
  return d_inputs;
}

Config BaseGlobalPooling::get_config() const {
  Config config = Layer::get_config();
  config["data_format"] = data_format_;
  config["keepdims"] = keepdims_;
  return config;
}

Tensor GlobalAveragePooling::mean(const Tensor& inputs, const std::optional<Mask>& mask) const {
  check_rank(inputs.shape());
  if (!mask) {
    // ops.mean: the float32 sum over the cells, divided by their count.
    return pool(inputs, [](int64_t, const float* first, int64_t n, int64_t stride) {
      float sum = 0.0f;
      for (int64_t t = 0; t < n; ++t) sum += first[t * stride];
      return sum / static_cast<float>(n);
    });
  }
  const Shape expected{inputs.dim(0), cells(inputs.shape())};
  if (mask->shape() != expected) {
    throw_value_error(error_source(), "the mask does not match the inputs",
                      "a mask of shape " + keras_shape(expected),
                      "mask_shape=" + keras_shape(mask->shape()));
  }
  const Mask m = mask->contiguous();
  // GlobalAveragePooling1D.call: sum(where(mask, inputs, 0)) / sum(cast(mask, float32)).
  return pool(inputs, [&](int64_t b, const float* first, int64_t n, int64_t stride) {
    const bool* keep = m.data() + b * n;
    float sum = 0.0f;
    float count = 0.0f;
    for (int64_t t = 0; t < n; ++t) {
      if (!keep[t]) continue;
      sum += first[t * stride];
      count += 1.0f;
    }
    return sum / count;
  });
}

LayerForward GlobalAveragePooling::mean_forward(const Tensor& inputs,
                                                const std::optional<Mask>& mask) const {
  auto saved = std::make_shared<PoolingSaved>();
  saved->layer = this;
  LayerForward result{mean(inputs, mask), nullptr};
  saved->inputs = inputs.contiguous();
  if (mask) saved->mask = mask->contiguous();
  saved->output = result.output;
  result.saved = std::move(saved);
  return result;
}

Tensor GlobalAveragePooling::backward(const LayerForward& forward, const Tensor& d_output,
                                      std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<PoolingSaved>(*this, forward, d_output, weight_gradients);
  if (!saved.mask) {
    // sum / n
    return unpool(
        saved.inputs, d_output,
        [](int64_t, int64_t, float d, const float*, float* d_first, int64_t n, int64_t stride) {
          for (int64_t t = 0; t < n; ++t) d_first[t * stride] = d / static_cast<float>(n);
        });
  }
  // sum(where(mask, inputs, 0)) / count: the kept steps share d / count.
  const Mask& m = *saved.mask;
  return unpool(
      saved.inputs, d_output,
      [&](int64_t b, int64_t, float d, const float*, float* d_first, int64_t n, int64_t stride) {
        const bool* keep = m.data() + b * n;
        float count = 0.0f;
        for (int64_t t = 0; t < n; ++t) count += keep[t] ? 1.0f : 0.0f;
        for (int64_t t = 0; t < n; ++t) {
          if (keep[t]) d_first[t * stride] = d / count;
        }
      });
}

GlobalAveragePooling1D::GlobalAveragePooling1D() : GlobalAveragePooling1D(Args{}) {}

GlobalAveragePooling1D::GlobalAveragePooling1D(Args args)
    : GlobalAveragePooling("GlobalAveragePooling1D", 1, std::move(args)) {}

std::unique_ptr<GlobalAveragePooling1D> GlobalAveragePooling1D::from_config(const Config& config) {
  return std::make_unique<GlobalAveragePooling1D>(read_args(config, "GlobalAveragePooling1D"));
}

GlobalAveragePooling2D::GlobalAveragePooling2D() : GlobalAveragePooling2D(Args{}) {}

GlobalAveragePooling2D::GlobalAveragePooling2D(Args args)
    : GlobalAveragePooling("GlobalAveragePooling2D", 2, std::move(args)) {}

std::unique_ptr<GlobalAveragePooling2D> GlobalAveragePooling2D::from_config(const Config& config) {
  return std::make_unique<GlobalAveragePooling2D>(read_args(config, "GlobalAveragePooling2D"));
}

Tensor GlobalMaxPooling::call(const Tensor& inputs) const {
  check_rank(inputs.shape());
  if (cells(inputs.shape()) == 0) {
    // numpy's max has no identity to return for an empty axis.
    throw_value_error(error_source(), "zero-size array to reduction operation maximum",
                      "at least one step", "shape=" + keras_shape(inputs.shape()));
  }
  // ops.max: NaN wins, as in numpy.
  return pool(inputs, [](int64_t, const float* first, int64_t n, int64_t stride) {
    float max = first[0];
    for (int64_t t = 1; t < n; ++t) {
      const float value = first[t * stride];
      if (std::isnan(max) || max >= value) continue;
      max = value;
    }
    return max;
  });
}

LayerForward GlobalMaxPooling::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<PoolingSaved>();
  saved->layer = this;
  LayerForward result{call(inputs), nullptr};
  saved->inputs = inputs.contiguous();
  saved->output = result.output;
  result.saved = std::move(saved);
  return result;
}

Tensor GlobalMaxPooling::backward(const LayerForward& forward, const Tensor& d_output,
                                  std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<PoolingSaved>(*this, forward, d_output, weight_gradients);
  const Tensor maxima = saved.output.contiguous();  // (B, C) whatever the kept axes
  const int64_t C = maxima.size() / saved.inputs.dim(0);
  // max over the cells: d * (x == max) / count(x == max), TensorFlow's _MaxGrad.
  return unpool(saved.inputs, d_output,
                [&](int64_t b, int64_t c, float d, const float* first, float* d_first, int64_t n,
                    int64_t stride) {
                  const float max = maxima.data()[b * C + c];
                  float count = 0.0f;
                  for (int64_t t = 0; t < n; ++t) count += first[t * stride] == max ? 1.0f : 0.0f;
                  for (int64_t t = 0; t < n; ++t) {
                    d_first[t * stride] = d * (first[t * stride] == max ? 1.0f : 0.0f) / count;
                  }
                });
}

GlobalMaxPooling1D::GlobalMaxPooling1D() : GlobalMaxPooling1D(Args{}) {}

GlobalMaxPooling1D::GlobalMaxPooling1D(Args args)
    : GlobalMaxPooling("GlobalMaxPooling1D", 1, std::move(args)) {}

std::unique_ptr<GlobalMaxPooling1D> GlobalMaxPooling1D::from_config(const Config& config) {
  return std::make_unique<GlobalMaxPooling1D>(read_args(config, "GlobalMaxPooling1D"));
}

GlobalMaxPooling2D::GlobalMaxPooling2D() : GlobalMaxPooling2D(Args{}) {}

GlobalMaxPooling2D::GlobalMaxPooling2D(Args args)
    : GlobalMaxPooling("GlobalMaxPooling2D", 2, std::move(args)) {}

std::unique_ptr<GlobalMaxPooling2D> GlobalMaxPooling2D::from_config(const Config& config) {
  return std::make_unique<GlobalMaxPooling2D>(read_args(config, "GlobalMaxPooling2D"));
}

}  // namespace kattn
