// keras.layers.GlobalAveragePooling1D and GlobalMaxPooling1D over Keras's BaseGlobalPooling.
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

// Both layers' constructor arguments from a config (BaseGlobalPooling.get_config's keys).
template <typename Args>
Args read_pooling_args(ConfigReader& reader) {
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

struct PoolingSaved : detail::SavedForBackward {
  Tensor inputs;  // (B, T, C) or (B, C, T), contiguous
  std::optional<Mask> mask;
  Tensor output;
};

}  // namespace

GlobalPooling1D::GlobalPooling1D(std::string class_name, LayerArgs args,
                                 const std::string& data_format, bool keepdims)
    : UnaryLayer(std::move(class_name), std::move(args), MaskRule::kDrop,
                 BuildRecord::kNotRecorded),
      data_format_(detail::standardize_data_format(error_source(), data_format)),
      keepdims_(keepdims) {
  // BaseGlobalPooling.__init__ sets self.built = True: there is nothing to build.
  build_once([] {});
}

Shape GlobalPooling1D::compute_output_shape(const Shape& input_shape) const {
  detail::check_rank_3(error_source(), input_shape);
  const int64_t channels = input_shape[data_format_ == "channels_last" ? 2 : 1];
  if (!keepdims_) return {input_shape[0], channels};
  return data_format_ == "channels_last" ? Shape{input_shape[0], 1, channels}
                                         : Shape{input_shape[0], channels, 1};
}

Tensor GlobalPooling1D::pool(const Tensor& inputs,
                             const std::function<float(int64_t b, const float* first, int64_t steps,
                                                       int64_t stride)>& reduce) const {
  Tensor output(compute_output_shape(inputs.shape()));
  const Tensor x = inputs.contiguous();
  const int64_t B = x.dim(0), T = x.dim(steps_axis()), C = x.dim(3 - steps_axis());
  // channels_last (B, T, C): a (b, c) pair's steps are C apart; channels_first (B, C, T): 1.
  const bool last = data_format_ == "channels_last";
  float* out = output.data();  // (B, C) whatever the kept axis
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const float* first = x.data() + b * T * C + (last ? c : c * T);
      out[b * C + c] = reduce(b, first, T, last ? C : 1);
    }
  }
  return output;
}

Tensor GlobalPooling1D::unpool(
    const Tensor& x, const Tensor& d_output,
    const std::function<void(int64_t b, int64_t c, float d, const float* first, float* d_first,
                             int64_t steps, int64_t stride)>& spread) const {
  Tensor d_inputs(x.shape());
  const Tensor d = d_output.contiguous();
  const int64_t B = x.dim(0), T = x.dim(steps_axis()), C = x.dim(3 - steps_axis());
  const bool last = data_format_ == "channels_last";
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t first = b * T * C + (last ? c : c * T);
      spread(b, c, d.data()[b * C + c], x.data() + first, d_inputs.data() + first, T, last ? C : 1);
    }
  }
  return d_inputs;
}

Config GlobalPooling1D::get_config() const {
  Config config = Layer::get_config();
  config["data_format"] = data_format_;
  config["keepdims"] = keepdims_;
  return config;
}

GlobalAveragePooling1D::GlobalAveragePooling1D() : GlobalAveragePooling1D(Args{}) {}

GlobalAveragePooling1D::GlobalAveragePooling1D(Args args)
    : GlobalPooling1D("GlobalAveragePooling1D", LayerArgs{std::move(args.name), args.trainable},
                      args.data_format, args.keepdims) {}

std::unique_ptr<GlobalAveragePooling1D> GlobalAveragePooling1D::from_config(const Config& config) {
  ConfigReader reader(config, {"GlobalAveragePooling1D", config_layer_name(config)});
  return std::make_unique<GlobalAveragePooling1D>(read_pooling_args<Args>(reader));
}

Tensor GlobalAveragePooling1D::call(const Tensor& inputs, const std::optional<Mask>& mask) const {
  detail::check_rank_3(error_source(), inputs.shape());
  const int64_t steps = inputs.dim(steps_axis());
  if (!mask) {
    // ops.mean: the float32 sum over the steps, divided by their count.
    return pool(inputs, [](int64_t, const float* first, int64_t n, int64_t stride) {
      float sum = 0.0f;
      for (int64_t t = 0; t < n; ++t) sum += first[t * stride];
      return sum / static_cast<float>(n);
    });
  }
  const Shape expected{inputs.dim(0), steps};
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

LayerForward GlobalAveragePooling1D::forward(const Tensor& inputs,
                                             const std::optional<Mask>& mask) const {
  auto saved = std::make_shared<PoolingSaved>();
  saved->layer = this;
  LayerForward result{call(inputs, mask), nullptr};
  saved->inputs = inputs.contiguous();
  if (mask) saved->mask = mask->contiguous();
  saved->output = result.output;
  result.saved = std::move(saved);
  return result;
}

Tensor GlobalAveragePooling1D::backward(const LayerForward& forward, const Tensor& d_output,
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

GlobalMaxPooling1D::GlobalMaxPooling1D() : GlobalMaxPooling1D(Args{}) {}

GlobalMaxPooling1D::GlobalMaxPooling1D(Args args)
    : GlobalPooling1D("GlobalMaxPooling1D", LayerArgs{std::move(args.name), args.trainable},
                      args.data_format, args.keepdims) {}

std::unique_ptr<GlobalMaxPooling1D> GlobalMaxPooling1D::from_config(const Config& config) {
  ConfigReader reader(config, {"GlobalMaxPooling1D", config_layer_name(config)});
  return std::make_unique<GlobalMaxPooling1D>(read_pooling_args<Args>(reader));
}

Tensor GlobalMaxPooling1D::call(const Tensor& inputs) const {
  detail::check_rank_3(error_source(), inputs.shape());
  if (inputs.dim(steps_axis()) == 0) {
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

LayerForward GlobalMaxPooling1D::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<PoolingSaved>();
  saved->layer = this;
  LayerForward result{call(inputs), nullptr};
  saved->inputs = inputs.contiguous();
  saved->output = result.output;
  result.saved = std::move(saved);
  return result;
}

Tensor GlobalMaxPooling1D::backward(const LayerForward& forward, const Tensor& d_output,
                                    std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<PoolingSaved>(*this, forward, d_output, weight_gradients);
  const Tensor maxima = saved.output.contiguous();  // (B, C) whatever the kept axis
  const int64_t C = saved.inputs.dim(3 - steps_axis());
  // max over the steps: d * (x == max) / count(x == max), TensorFlow's _MaxGrad.
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

}  // namespace kattn
