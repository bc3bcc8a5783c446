// Keras's BaseConv: BaseConv.__init__'s checks, BaseConv.build, compute_conv_output_shape and
// the call, over ops::convolution.
#include "kattn/layers/base_conv.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"
#include "layers/detail/weight_args_config.hpp"
#include "ops/convolution.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// keras.utils.argument_validation.standardize_padding(value, allow_causal).
std::string standardize_padding(ErrorSource source, std::string padding, bool allow_causal) {
  std::transform(padding.begin(), padding.end(), padding.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (padding != "valid" && padding != "same" && (!allow_causal || padding != "causal")) {
    throw_value_error(
        source, "Invalid value for argument `padding`",
        allow_causal ? "one of {'valid', 'same', 'causal'}" : "one of {'valid', 'same'}",
        "padding=" + padding);
  }
  return padding;
}

// channels_first (B, C, S0[, S1]) as channels_last (B, S0[, S1], C), contiguous.
Tensor to_channels_last(const Tensor& x) {
  Tensor view = x;
  for (int64_t axis = 1; axis + 1 < x.rank(); ++axis) view = view.transpose(axis, axis + 1);
  return view.contiguous();
}

// The inverse of to_channels_last.
Tensor to_channels_first(const Tensor& y) {
  Tensor view = y;
  for (int64_t axis = y.rank() - 1; axis > 1; --axis) view = view.transpose(axis - 1, axis);
  return view.contiguous();
}

// compute_conv_output_shape for one axis of `length` cells (>= 0): Python's floor division,
// so that a "valid" window larger than the input gives a negative size.
int64_t output_length(int64_t length, int64_t reach, int64_t stride, const std::string& padding) {
  if (padding != "valid") return (length + stride - 1) / stride;
  const int64_t span = length - reach - 1;
  return (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
}

struct ConvSaved : detail::SavedForBackward {
  Tensor inputs;                // channels_last, contiguous
  detail::Activated activated;  // channels_last
};

}  // namespace

BaseConv::BaseConv(std::string class_name, size_t rank, Args args)
    : UnaryLayer(std::move(class_name), LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kDrop, BuildRecord::kRecorded),
      kernel_size_(
          detail::standardize_tuple(error_source(), "kernel_size", args.kernel_size, rank)),
      strides_(detail::standardize_tuple(error_source(), "strides", args.strides, rank)),
      dilation_rate_(
          detail::standardize_tuple(error_source(), "dilation_rate", args.dilation_rate, rank)),
      filters_(args.filters),
      padding_(standardize_padding(error_source(), std::move(args.padding), rank == 1)),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)),
      groups_(args.groups),
      activation_(std::move(args.activation)),
      use_bias_(args.use_bias),
      kernel_(detail::resolved_weight_args(std::move(args.kernel), Initializer::glorot_uniform())),
      bias_(detail::resolved_weight_args(std::move(args.bias), Initializer::zeros())),
      activity_regularizer_(std::move(args.activity_regularizer)) {
  const ErrorSource source = error_source();
  // BaseConv.__init__, in Keras's order.
  detail::check_positive_argument(source, "filters", filters_);
  detail::check_positive_argument(source, "groups", groups_);
  if (filters_ % groups_ != 0) {
    throw_value_error(
        source, "The number of filters must be evenly divisible by the number of groups",
        "filters divisible by groups",
        "groups=" + std::to_string(groups_) + ", filters=" + std::to_string(filters_));
  }
  const auto above_one = [](int64_t v) { return v > 1; };
  if (std::any_of(strides_.begin(), strides_.end(), above_one) &&
      std::any_of(dilation_rate_.begin(), dilation_rate_.end(), above_one)) {
    const std::string ones = IntOrList(std::vector<int64_t>(rank, 1)).to_string();
    throw_value_error(source, "`strides > 1` not supported in conjunction with `dilation_rate > 1`",
                      "strides=" + ones + " or dilation_rate=" + ones,
                      "strides=" + IntOrList(strides_).to_string() +
                          " and dilation_rate=" + IntOrList(dilation_rate_).to_string());
  }
}

BaseConv::Args BaseConv::read_args(const Config& config, std::string_view class_name) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
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
  return args;
}

size_t BaseConv::channel_axis(size_t rank) const {
  return data_format_ == "channels_last" ? rank - 1 : 1;
}

void BaseConv::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void BaseConv::build_weights(const Shape& input_shape) {
  const ErrorSource source = error_source();
  compute_output_shape(input_shape);  // the rank
  const int64_t channels = input_shape[channel_axis(input_shape.size())];
  if (channels <= 0) {
    throw_value_error(source, "the channel dimension of the inputs must be known and positive",
                      "a channel dimension > 0", "shape=" + keras_shape(input_shape));
  }
  if (channels % groups_ != 0) {
    throw_value_error(source,
                      "The number of input channels must be evenly divisible by the number of "
                      "groups",
                      "channels divisible by groups=" + std::to_string(groups_),
                      "shape=" + keras_shape(input_shape));
  }
  Shape kernel_shape = kernel_size_;
  kernel_shape.push_back(channels / groups_);
  kernel_shape.push_back(filters_);
  add_weight("kernel", kernel_shape, kernel_);
  if (use_bias_) add_weight("bias", {filters_}, bias_);
}

Shape BaseConv::compute_output_shape(const Shape& input_shape) const {
  const size_t rank = kernel_size_.size();
  if (input_shape.size() != rank + 2) {
    throw_value_error(
        error_source(), "Input 0 is incompatible with the layer",
        "ndim=" + std::to_string(rank + 2),
        "ndim=" + std::to_string(input_shape.size()) + ", shape=" + keras_shape(input_shape));
  }
  // keras.src.ops.operation_utils.compute_conv_output_shape.
  const bool last = data_format_ == "channels_last";
  Shape output = input_shape;
  output[last ? rank + 1 : 1] = filters_;
  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t length = input_shape[(last ? 1 : 2) + axis];
    int64_t& out = output[(last ? 1 : 2) + axis];
    const int64_t s = strides_[axis], reach = dilation_rate_[axis] * (kernel_size_[axis] - 1);
    out = length < 0 ? -1 : output_length(length, reach, s, padding_);
    if (length >= 0 && out < 0) {
      throw_value_error(error_source(), "Computed output size would be negative",
                        "steps >= (kernel_size - 1) * dilation_rate = " + std::to_string(reach),
                        "inputs shape=" + keras_shape(input_shape) +
                            ", kernel_size=" + IntOrList(kernel_size_).to_string() +
                            ", dilation_rate=" + IntOrList(dilation_rate_).to_string());
    }
  }
  return output;
}

Shape BaseConv::prepare(const Tensor& inputs) const {
  build_once([&] { const_cast<BaseConv*>(this)->build_weights(inputs.shape()); });
  Shape output_shape = compute_output_shape(inputs.shape());
  const int64_t channels = weights()[0].value.dim(-2) * groups_;
  const size_t axis = channel_axis(inputs.shape().size());
  if (inputs.shape()[axis] != channels) {
    // Keras's InputSpec(axes={channel_axis: C}) after build.
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      std::string(axis == 1 ? "an axis 1 dimension" : "a last dimension") + " of " +
                          std::to_string(channels),
                      "shape=" + keras_shape(inputs.shape()));
  }
  return output_shape;
}

ops::Convolution BaseConv::convolution_for(const Shape& x_shape) const {
  ops::Convolution conv{strides_, dilation_rate_, {}, {}, groups_};
  for (size_t axis = 0; axis < kernel_size_.size(); ++axis) {
    const int64_t length = x_shape[axis + 1];
    const int64_t s = strides_[axis], reach = dilation_rate_[axis] * (kernel_size_[axis] - 1);
    const int64_t out = output_length(length, reach, s, padding_);
    // Zeros before the axis; those after it need no count: cells past its end are skipped.
    int64_t before = 0;
    if (padding_ == "causal") before = reach;
    if (padding_ == "same") before = std::max<int64_t>((out - 1) * s + reach + 1 - length, 0) / 2;
    conv.pad_before.push_back(before);
    conv.output_size.push_back(out);
  }
  return conv;
}

Tensor BaseConv::linear(const Tensor& x) const {
  return ops::convolution(x, weights()[0].value.contiguous(),
                          use_bias_ ? &weights()[1].value : nullptr, convolution_for(x.shape()));
}

Tensor BaseConv::call(const Tensor& inputs) const {
  prepare(inputs);
  const bool last = data_format_ == "channels_last";
  Tensor output = linear(last ? inputs.contiguous() : to_channels_last(inputs));
  activation_(output);
  return last ? output : to_channels_first(output);
}

LayerForward BaseConv::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<ConvSaved>();
  saved->layer = this;
  prepare(inputs);
  const bool last = data_format_ == "channels_last";
  saved->inputs = last ? inputs.contiguous() : to_channels_last(inputs);
  saved->activated = detail::activate(activation_, linear(saved->inputs));
  Tensor output = last ? saved->activated.output : to_channels_first(saved->activated.output);
  return {std::move(output), std::move(saved)};
}

Tensor BaseConv::backward(const LayerForward& forward, const Tensor& d_output,
                          std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<ConvSaved>(*this, forward, d_output, weight_gradients);
  const bool last = data_format_ == "channels_last";
  // output = activation(linear)
  const Tensor dy =
      detail::activation_backward(activation_, saved.activated,
                                  last ? d_output.contiguous() : to_channels_last(d_output))
          .contiguous();
  const Tensor d_inputs = ops::convolution_backward(
      saved.inputs, weights()[0].value.contiguous(), dy, convolution_for(saved.inputs.shape()),
      weight_gradients[0], use_bias_ ? &weight_gradients[1] : nullptr);
  return last ? d_inputs : to_channels_first(d_inputs);
}

Config BaseConv::get_config() const {
  Config config = Layer::get_config();
  config["filters"] = filters_;
  config["kernel_size"] = detail::shape_to_json(kernel_size_);
  config["strides"] = detail::shape_to_json(strides_);
  config["padding"] = padding_;
  config["data_format"] = data_format_;
  config["dilation_rate"] = detail::shape_to_json(dilation_rate_);
  config["groups"] = groups_;
  config["activation"] = activation_.get_config();
  config["use_bias"] = use_bias_;
  detail::write_weight_args(config, "kernel", kernel_);
  detail::write_weight_args(config, "bias", bias_);
  config["activity_regularizer"] = activity_regularizer_;
  return config;
}

}  // namespace kattn
