// keras.layers.Conv1D: BaseConv.__init__'s checks, BaseConv.build and Conv1D.call.
#include "kattn/layers/conv1d.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// keras.utils.argument_validation.standardize_tuple(value, 1, name): one int > 0.
int64_t standardize_tuple(ErrorSource source, const std::string& name, const IntOrList& value) {
  return detail::standardize_tuple(source, name, value, 1)[0];
}

// keras.utils.argument_validation.standardize_padding(value, allow_causal=True).
std::string standardize_padding(ErrorSource source, std::string padding) {
  std::transform(padding.begin(), padding.end(), padding.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (padding != "valid" && padding != "same" && padding != "causal") {
    throw_value_error(source, "Invalid value for argument `padding`",
                      "one of {'valid', 'same', 'causal'}", "padding=" + padding);
  }
  return padding;
}

Config tuple_json(int64_t value) { return Config::array({value}); }

}  // namespace

Conv1D::Conv1D(Args args)
    : UnaryLayer("Conv1D", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kDrop,
                 BuildRecord::kRecorded),
      filters_(args.filters),
      kernel_size_(standardize_tuple(error_source(), "kernel_size", args.kernel_size)),
      strides_(standardize_tuple(error_source(), "strides", args.strides)),
      padding_(standardize_padding(error_source(), std::move(args.padding))),
      dilation_rate_(standardize_tuple(error_source(), "dilation_rate", args.dilation_rate)),
      groups_(args.groups),
      activation_(std::move(args.activation)),
      use_bias_(args.use_bias),
      kernel_(detail::resolved_weight_args(std::move(args.kernel), Initializer::glorot_uniform())),
      bias_(detail::resolved_weight_args(std::move(args.bias), Initializer::zeros())),
      activity_regularizer_(std::move(args.activity_regularizer)) {
  const ErrorSource source = error_source();
  if (detail::standardize_data_format(source, args.data_format) != "channels_last") {
    throw NotSupportedError(error_message(source, "unsupported data_format", "channels_last",
                                          "data_format=channels_first"));
  }
  // BaseConv.__init__, in Keras's order.
  detail::check_positive_argument(source, "filters", filters_);
  detail::check_positive_argument(source, "groups", groups_);
  if (filters_ % groups_ != 0) {
    throw_value_error(
        source, "The number of filters must be evenly divisible by the number of groups",
        "filters divisible by groups",
        "groups=" + std::to_string(groups_) + ", filters=" + std::to_string(filters_));
  }
  if (strides_ > 1 && dilation_rate_ > 1) {
    throw_value_error(source, "`strides > 1` not supported in conjunction with `dilation_rate > 1`",
                      "strides=(1,) or dilation_rate=(1,)",
                      "strides=(" + std::to_string(strides_) + ",) and dilation_rate=(" +
                          std::to_string(dilation_rate_) + ",)");
  }
}

std::unique_ptr<Conv1D> Conv1D::from_config(const Config& config) {
  ConfigReader reader(config, {"Conv1D", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.filters = detail::read_positive_int(reader, "filters");
  args.kernel_size = IntOrList::read(reader, "kernel_size", 0);
  args.strides = IntOrList::read(reader, "strides", 1);
  args.padding = reader.get_string("padding", "valid");
  // null is Keras's default image_data_format.
  if (!reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", "channels_last");
  }
  args.dilation_rate = IntOrList::read(reader, "dilation_rate", 1);
  args.groups = reader.get_int("groups", 1);
  args.activation = ActivationFunction::from_config(reader.get("activation", nullptr));
  args.use_bias = reader.get_bool("use_bias", true);
  args.kernel = detail::read_weight_args(reader, "kernel", "glorot_uniform");
  args.bias = detail::read_weight_args(reader, "bias", "zeros");
  args.activity_regularizer = detail::read_keras_object(reader, "activity_regularizer");
  for (const char* key : {"lora_rank", "lora_alpha", "dora_rank", "dora_alpha"}) {
    detail::read_unsupported_argument(reader, key);
  }
  reader.check_all_read();
  return std::make_unique<Conv1D>(std::move(args));
}

void Conv1D::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void Conv1D::build_weights(const Shape& input_shape) {
  const ErrorSource source = error_source();
  detail::check_rank_3(source, input_shape);
  const int64_t channels = input_shape.back();
  if (channels <= 0) {
    throw_value_error(source, "the channel dimension of the inputs must be known and positive",
                      "a last dimension > 0", "shape=" + keras_shape(input_shape));
  }
  if (channels % groups_ != 0) {
    throw_value_error(source,
                      "The number of input channels must be evenly divisible by the number of "
                      "groups",
                      "channels divisible by groups=" + std::to_string(groups_),
                      "shape=" + keras_shape(input_shape));
  }
  // BaseConv.build validates the output shape before creating kernel, then bias.
  compute_output_shape(input_shape);
  add_weight("kernel", {kernel_size_, channels / groups_, filters_}, kernel_);
  if (use_bias_) add_weight("bias", {filters_}, bias_);
}

Shape Conv1D::compute_output_shape(const Shape& input_shape) const {
  detail::check_rank_3(error_source(), input_shape);
  // keras.src.ops.operation_utils.compute_conv_output_shape.
  const int64_t length = input_shape[1];
  int64_t out_length = -1;
  if (length >= 0 && padding_ == "valid") {
    const int64_t span = length - dilation_rate_ * (kernel_size_ - 1) - 1;
    // Python's floor division: span may be negative.
    out_length = (span >= 0 ? span / strides_ : -((-span + strides_ - 1) / strides_)) + 1;
    if (out_length < 0) {
      throw_value_error(error_source(), "Computed output size would be negative",
                        "steps >= (kernel_size - 1) * dilation_rate = " +
                            std::to_string((kernel_size_ - 1) * dilation_rate_),
                        "inputs shape=" + keras_shape(input_shape) + ", kernel_size=(" +
                            std::to_string(kernel_size_) + ",), dilation_rate=(" +
                            std::to_string(dilation_rate_) + ",)");
    }
  } else if (length >= 0) {
    out_length = (length + strides_ - 1) / strides_;
  }
  return {input_shape[0], out_length, filters_};
}

Shape Conv1D::prepare(const Tensor& inputs) const {
  build_once([&] { const_cast<Conv1D*>(this)->build_weights(inputs.shape()); });
  Shape output_shape = compute_output_shape(inputs.shape());
  const int64_t group_channels = weights()[0].value.dim(1);
  if (inputs.dim(-1) != group_channels * groups_) {
    // Keras's InputSpec(axes={-1: C}) after build.
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "a last dimension of " + std::to_string(group_channels * groups_),
                      "shape=" + keras_shape(inputs.shape()));
  }
  return output_shape;
}

int64_t Conv1D::padding_before(int64_t length, int64_t out_length) const {
  // Zeros before the sequence; those after it need no count: positions >= L are skipped.
  if (padding_ == "causal") return (kernel_size_ - 1) * dilation_rate_;
  if (padding_ == "same") {
    const int64_t total = std::max<int64_t>(
        (out_length - 1) * strides_ + (kernel_size_ - 1) * dilation_rate_ + 1 - length, 0);
    return total / 2;
  }
  return 0;
}

Tensor Conv1D::linear(const Tensor& x, const Shape& output_shape) const {
  const Tensor& kernel = weights()[0].value;
  const int64_t group_channels = kernel.dim(1);
  const int64_t B = x.dim(0), L = x.dim(1), C = x.dim(2), F = filters_;
  const int64_t out_length = output_shape[1];
  const int64_t group_filters = F / groups_;
  const int64_t left = padding_before(L, out_length);

  Tensor output({B, out_length, F});
  const float* in = x.data();
  const float* k = kernel.data();
  const float* bias = use_bias_ ? weights()[1].value.data() : nullptr;
  float* out = output.data();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < out_length; ++i) {
      float* y = out + (b * out_length + i) * F;  // (F,), zero from the Tensor constructor
      for (int64_t t = 0; t < kernel_size_; ++t) {
        const int64_t position = i * strides_ + t * dilation_rate_ - left;
        if (position < 0 || position >= L) continue;  // a padding zero
        const float* x_row = in + (b * L + position) * C;
        for (int64_t g = 0; g < groups_; ++g) {
          for (int64_t c = 0; c < group_channels; ++c) {
            const float value = x_row[g * group_channels + c];
            // kernel[t, c, o] for the filters o of group g.
            const float* k_row = k + (t * group_channels + c) * F + g * group_filters;
            float* y_group = y + g * group_filters;
            for (int64_t o = 0; o < group_filters; ++o) y_group[o] += value * k_row[o];
          }
        }
      }
      if (bias != nullptr) {
        for (int64_t o = 0; o < F; ++o) y[o] += bias[o];
      }
    }
  }
  return output;
}

Tensor Conv1D::call(const Tensor& inputs) const {
  const Shape output_shape = prepare(inputs);
  Tensor output = linear(inputs.contiguous(), output_shape);
  activation_(output);
  return output;
}

namespace {

struct Conv1DSaved : detail::SavedForBackward {
  Tensor inputs;  // (B, L, C), contiguous
  detail::Activated activated;
};

}  // namespace

LayerForward Conv1D::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<Conv1DSaved>();
  saved->layer = this;
  const Shape output_shape = prepare(inputs);
  saved->inputs = inputs.contiguous();
  saved->activated = detail::activate(activation_, linear(saved->inputs, output_shape));
  return {saved->activated.output, std::move(saved)};
}

Tensor Conv1D::backward(const LayerForward& forward, const Tensor& d_output,
                        std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<Conv1DSaved>(*this, forward, d_output, weight_gradients);
  // output = activation(linear)
  const Tensor dy_all =
      detail::activation_backward(activation_, saved.activated, d_output).contiguous();

  const Tensor& x = saved.inputs;
  const Tensor& kernel = weights()[0].value;
  const int64_t group_channels = kernel.dim(1);
  const int64_t B = x.dim(0), L = x.dim(1), C = x.dim(2), F = filters_;
  const int64_t out_length = dy_all.dim(1);
  const int64_t group_filters = F / groups_;
  const int64_t left = padding_before(L, out_length);

  Tensor d_inputs(x.shape());
  const float* in = x.data();
  const float* k = kernel.data();
  float* d_in = d_inputs.data();
  float* d_k = weight_gradients[0].data();
  float* d_bias = use_bias_ ? weight_gradients[1].data() : nullptr;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < out_length; ++i) {
      const float* dy = dy_all.data() + (b * out_length + i) * F;  // (F,)
      for (int64_t t = 0; t < kernel_size_; ++t) {
        const int64_t position = i * strides_ + t * dilation_rate_ - left;
        if (position < 0 || position >= L) continue;  // a padding zero takes no gradient
        const float* x_row = in + (b * L + position) * C;
        float* d_x_row = d_in + (b * L + position) * C;
        for (int64_t g = 0; g < groups_; ++g) {
          for (int64_t c = 0; c < group_channels; ++c) {
            // y_group[o] += value * k_row[o]
            const float* k_row = k + (t * group_channels + c) * F + g * group_filters;
            float* d_k_row = d_k + (t * group_channels + c) * F + g * group_filters;
            const float* dy_group = dy + g * group_filters;
            const float value = x_row[g * group_channels + c];
            float d_value = 0.0f;
            for (int64_t o = 0; o < group_filters; ++o) {
              d_value += dy_group[o] * k_row[o];
              d_k_row[o] += value * dy_group[o];
            }
            d_x_row[g * group_channels + c] += d_value;
          }
        }
      }
      if (d_bias != nullptr) {
        // y[o] += bias[o]
        for (int64_t o = 0; o < F; ++o) d_bias[o] += dy[o];
      }
    }
  }
  return d_inputs;
}

Config Conv1D::get_config() const {
  Config config = Layer::get_config();
  config["filters"] = filters_;
  config["kernel_size"] = tuple_json(kernel_size_);
  config["strides"] = tuple_json(strides_);
  config["padding"] = padding_;
  config["data_format"] = "channels_last";
  config["dilation_rate"] = tuple_json(dilation_rate_);
  config["groups"] = groups_;
  config["activation"] = activation_.get_config();
  config["use_bias"] = use_bias_;
  detail::write_weight_args(config, "kernel", kernel_);
  detail::write_weight_args(config, "bias", bias_);
  config["activity_regularizer"] = activity_regularizer_;
  return config;
}

}  // namespace kattn
