// keras.layers.Dropout: Dropout.__init__'s checks and Dropout.call, with the numpy backend's
// backend.random.dropout rule (keep when uniform < 1 - rate, kept values divided by 1 - rate in
// float32).
#include "kattn/layers/dropout.hpp"

#include <memory>
#include <utility>

#include "core/argument_checks.hpp"
#include "core/node_inputs.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

Dropout::Dropout(Args args)
    : Layer("Dropout", LayerArgs{std::move(args.name), args.trainable}),
      rate_(args.rate),
      noise_shape_(std::move(args.noise_shape)),
      seed_generator_(args.seed) {
  if (!(rate_ >= 0.0 && rate_ <= 1.0)) {
    throw_value_error(error_source(), "Invalid value received for argument `rate`",
                      "a float value between 0 and 1", "rate=" + detail::python_float(rate_));
  }
  if (noise_shape_) {
    for (const int64_t dim : *noise_shape_) {
      if (dim == -1 || dim > 0) continue;
      throw_value_error(error_source(), "Invalid value received for argument `noise_shape`",
                        "all dimensions to be positive integers or None",
                        "noise_shape=" + detail::keras_shape(*noise_shape_));
    }
  }
  build_once([] {});  // Dropout.__init__: self._build_at_init()
}

std::unique_ptr<Dropout> Dropout::from_config(const Config& config) {
  ConfigReader reader(config, {"Dropout", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  // A required argument: a config without it is refused rather than read as 0.
  if (!reader.has("rate")) reader.fail("rate", "a float value between 0 and 1");
  args.rate = reader.get_number("rate", 0.0);
  args.seed = detail::read_optional_int(reader, "seed");
  const Config noise_shape = reader.get("noise_shape", nullptr);
  if (!noise_shape.is_null()) {
    if (!noise_shape.is_array()) reader.fail("noise_shape", "a tuple or list of integers");
    Shape shape;
    for (const Config& dim : noise_shape) {
      if (!dim.is_null() && !dim.is_number_integer()) {
        reader.fail("noise_shape", "all elements to be integers or None");
      }
      shape.push_back(dim.is_null() ? -1 : dim.get<int64_t>());
    }
    args.noise_shape = shape;
  }
  reader.check_all_read();
  return std::make_unique<Dropout>(std::move(args));
}

Shape Dropout::resolved_noise_shape(const Shape& shape) const {
  Shape noise = noise_shape_.value_or(shape);
  bool fits = noise.size() == shape.size();
  for (size_t axis = 0; fits && axis < noise.size(); ++axis) {
    if (noise[axis] == -1) noise[axis] = shape[axis];
    fits = noise[axis] == shape[axis] || noise[axis] == 1;
  }
  if (!fits) {
    // np.broadcast_to(mask, inputs.shape) refuses it in Keras.
    throw_value_error(error_source(), "`noise_shape` does not broadcast to the input",
                      "one entry per input axis, each the input's length, 1 or None",
                      "noise_shape=" + detail::keras_shape(*noise_shape_) +
                          ", input_shape=" + detail::keras_shape(shape));
  }
  return noise;
}

Tensor Dropout::apply_keep_mask(const Tensor& inputs, uint64_t key, const Shape& noise) const {
  const Shape& shape = inputs.shape();
  const float keep_prob = static_cast<float>(1.0 - rate_);
  const Tensor x = inputs.contiguous();
  Tensor output(shape);
  // Walk the input in row-major order while tracking the flat index of its noise element.
  const Shape noise_strides = contiguous_strides(noise);
  Shape index(shape.size(), 0);
  int64_t noise_index = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    output.data()[i] = dropout_keeps(key, static_cast<uint64_t>(noise_index), rate_)
                           ? x.data()[i] / keep_prob
                           : 0.0f;
    for (size_t axis = shape.size(); axis-- > 0;) {
      const int64_t step = noise[axis] == 1 ? 0 : noise_strides[axis];
      if (++index[axis] < shape[axis]) {
        noise_index += step;
        break;
      }
      noise_index -= step * (shape[axis] - 1);
      index[axis] = 0;
    }
  }
  return output;
}

Tensor Dropout::call(const Tensor& inputs, bool training) const {
  if (!training || rate_ == 0.0) return inputs;
  const Shape noise = resolved_noise_shape(inputs.shape());
  return apply_keep_mask(inputs, seed_generator_.next_key(), noise);
}

namespace {

struct DropoutSaved : detail::SavedForBackward {
  bool dropped = false;  // false: the identity (inference or rate 0)
  uint64_t key = 0;
  Shape noise;
};

}  // namespace

LayerForward Dropout::forward(const Tensor& inputs, bool training) const {
  auto saved = std::make_shared<DropoutSaved>();
  saved->layer = this;
  LayerForward result{inputs, nullptr};
  if (training && rate_ != 0.0) {
    saved->dropped = true;
    saved->noise = resolved_noise_shape(inputs.shape());
    saved->key = seed_generator_.next_key();
    result.output = apply_keep_mask(inputs, saved->key, saved->noise);
  }
  result.saved = std::move(saved);
  return result;
}

Tensor Dropout::backward(const LayerForward& forward, const Tensor& d_output,
                         std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<DropoutSaved>(*this, forward, d_output, weight_gradients);
  if (!saved.dropped) return d_output.clone();
  // output = keep ? inputs / (1 - rate) : 0 is linear in the inputs: the same mask, the same
  // scale.
  return apply_keep_mask(d_output, saved.key, saved.noise);
}

Config Dropout::get_config() const {
  Config config = Layer::get_config();
  config["rate"] = rate_;
  config["seed"] = detail::optional_to_json(seed_generator_.seed());
  Config noise_shape = nullptr;
  if (noise_shape_) {
    noise_shape = Config::array();
    for (const int64_t dim : *noise_shape_)
      noise_shape.push_back(dim == -1 ? Config() : Config(dim));
  }
  config["noise_shape"] = noise_shape;
  return config;
}

const std::vector<std::string>& Dropout::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs", "training"};
  return parameters;
}

std::vector<KerasTensor> Dropout::compute_output_spec(const SymbolicArguments& arguments) {
  const KerasTensor& x = arguments.tensor("inputs");
  detail::check_dtype(x, DType::kFloat32, error_source(), "inputs");
  KerasTensor output(x.shape(), DType::kFloat32);
  output.set_keras_mask(x.keras_mask());
  return {output};
}

std::vector<ValuePtr> Dropout::call_node(const ValueArguments& arguments,
                                         const RunContext& context) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const bool training = arguments.flag("training", context.training);
  const Tensor& inputs = detail::float_input(*x, error_source(), "inputs");
  if (!training || rate_ == 0.0) return {x};
  return {make_value(call(inputs, true), x->keras_mask)};
}

OperationForward Dropout::forward_node(const ValueArguments& arguments,
                                       const RunContext& context) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const bool training = arguments.flag("training", context.training);
  LayerForward saved = forward(detail::float_input(*x, error_source(), "inputs"), training);
  return {{!training || rate_ == 0.0 ? x : make_value(saved.output, x->keras_mask)},
          detail::save_call(*this, std::move(saved))};
}

ValueGradients Dropout::backward_node(const ValueArguments& arguments,
                                      const BackwardPass& pass) const {
  return detail::unary_backward(*this, arguments, pass);
}

}  // namespace kattn
