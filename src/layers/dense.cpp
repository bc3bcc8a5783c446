// keras.layers.Dense: Dense.build and Dense.call.
#include "kattn/layers/dense.hpp"

#include <memory>
#include <utility>

#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"
#include "ops/einsum_dense.hpp"

namespace kattn {

namespace {

struct DenseSaved : detail::SavedForBackward {
  Tensor inputs;  // (..., D)
  detail::Activated activated;
};

}  // namespace

Dense::Dense(Args args)
    : UnaryLayer("Dense", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kPassThrough,
                 BuildRecord::kRecorded),
      units_(args.units),
      activation_(std::move(args.activation)),
      use_bias_(args.use_bias),
      kernel_(detail::resolved_weight_args(std::move(args.kernel), Initializer::glorot_uniform())),
      bias_(detail::resolved_weight_args(std::move(args.bias), Initializer::zeros())),
      activity_regularizer_(std::move(args.activity_regularizer)) {
  detail::check_positive_argument(error_source(), "units", units_);
}

std::unique_ptr<Dense> Dense::from_config(const Config& config) {
  ConfigReader reader(config, {"Dense", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.units = detail::read_positive_int(reader, "units");
  args.activation = ActivationFunction::from_config(reader.get("activation", nullptr));
  args.use_bias = reader.get_bool("use_bias", true);
  args.kernel = detail::read_weight_args(reader, "kernel", "glorot_uniform");
  args.bias = detail::read_weight_args(reader, "bias", "zeros");
  args.activity_regularizer = detail::read_keras_object(reader, "activity_regularizer");
  for (const char* key : {"lora_rank", "lora_alpha", "quantization_config"}) {
    detail::read_unsupported_argument(reader, key);
  }
  reader.check_all_read();
  return std::make_unique<Dense>(std::move(args));
}

void Dense::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void Dense::build_weights(const Shape& input_shape) {
  detail::check_min_rank(error_source(), input_shape, 2);
  if (input_shape.back() <= 0) {
    throw_value_error(error_source(), "the last dimension of the inputs must be known and positive",
                      "a feature dimension > 0", "shape=" + detail::keras_shape(input_shape));
  }
  // Dense.build: kernel, then bias.
  const Shape kernel_shape{input_shape.back(), units_};
  add_weight("kernel", kernel_shape, kernel_);
  if (use_bias_) add_weight("bias", {units_}, bias_);
}

Shape Dense::compute_output_shape(const Shape& input_shape) const {
  detail::check_min_rank(error_source(), input_shape, 2);
  Shape output = input_shape;
  output.back() = units_;
  return output;
}

Tensor Dense::linear(const Tensor& inputs) const {
  build_once([&] { const_cast<Dense*>(this)->build_weights(inputs.shape()); });
  detail::check_min_rank(error_source(), inputs.shape(), 2);
  const Tensor& kernel = weights()[0].value;
  if (inputs.dim(-1) != kernel.dim(0)) {
    // Keras's InputSpec(axes={-1: D}) after build.
    throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                      "a last dimension of " + std::to_string(kernel.dim(0)),
                      "shape=" + detail::keras_shape(inputs.shape()));
  }
  // Dense.call: ops.matmul(inputs, kernel), then + bias (the activation follows).
  return ops::einsum_dense(inputs, 1, kernel, use_bias_ ? &weights()[1].value : nullptr);
}

Tensor Dense::call(const Tensor& inputs) const {
  Tensor output = linear(inputs);
  activation_(output);
  return output;
}

LayerForward Dense::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<DenseSaved>();
  saved->layer = this;
  saved->activated = detail::activate(activation_, linear(inputs));
  saved->inputs = inputs;
  return {saved->activated.output, std::move(saved)};
}

Tensor Dense::backward(const LayerForward& forward, const Tensor& d_output,
                       std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<DenseSaved>(*this, forward, d_output, weight_gradients);
  // output = activation(linear)
  const Tensor d_linear = detail::activation_backward(activation_, saved.activated, d_output);
  // linear = inputs @ kernel + bias
  return ops::einsum_dense_backward(saved.inputs, 1, weights()[0].value, d_linear,
                                    weight_gradients[0],
                                    use_bias_ ? &weight_gradients[1] : nullptr);
}

Config Dense::get_config() const {
  Config config = Layer::get_config();
  config["units"] = units_;
  config["activation"] = activation_.get_config();
  config["use_bias"] = use_bias_;
  detail::write_weight_args(config, "kernel", kernel_);
  detail::write_weight_args(config, "bias", bias_);
  config["quantization_config"] = nullptr;
  return config;
}

}  // namespace kattn
