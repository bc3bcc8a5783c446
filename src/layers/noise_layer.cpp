// The base of the layers that are identities at inference and perturb their input in training.
#include "kattn/layers/noise_layer.hpp"

#include <memory>
#include <utility>

#include "core/argument_checks.hpp"
#include "core/node_inputs.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

struct NoiseSaved : detail::SavedForBackward {
  bool perturbed = false;  // false: the identity (inference, or nothing to perturb)
  uint64_t key = 0;
};

}  // namespace

NoiseLayer::NoiseLayer(std::string class_name, LayerArgs args, std::optional<int64_t> seed)
    : Layer(std::move(class_name), std::move(args)), seed_generator_(seed) {
  build_once([] {});  // __init__: self._build_at_init()
}

void NoiseLayer::check_fraction(const std::string& argument, double value) const {
  if (value >= 0.0 && value <= 1.0) return;
  throw_value_error(error_source(), "Invalid value received for argument `" + argument + "`",
                    "a float value between 0 and 1", argument + "=" + detail::python_float(value));
}

void NoiseLayer::check_noise_shape(const std::optional<Shape>& noise_shape) const {
  if (!noise_shape) return;
  for (const int64_t dim : *noise_shape) {
    if (dim == -1 || dim > 0) continue;
    throw_value_error(error_source(), "Invalid value received for argument `noise_shape`",
                      "all dimensions to be positive integers or None",
                      "noise_shape=" + detail::keras_shape(*noise_shape));
  }
}

double NoiseLayer::read_required_number(ConfigReader& reader, const std::string& argument) {
  // A required argument: a config without it is refused rather than read as 0.
  if (!reader.has(argument)) reader.fail(argument, "a float value between 0 and 1");
  return reader.get_number(argument, 0.0);
}

std::optional<int64_t> NoiseLayer::read_seed(ConfigReader& reader) {
  return detail::read_optional_int(reader, "seed");
}

std::optional<Shape> NoiseLayer::read_noise_shape(ConfigReader& reader) {
  const Config noise_shape = reader.get("noise_shape", nullptr);
  if (noise_shape.is_null()) return std::nullopt;
  if (!noise_shape.is_array()) reader.fail("noise_shape", "a tuple or list of integers");
  Shape shape;
  for (const Config& dim : noise_shape) {
    if (!dim.is_null() && !dim.is_number_integer()) {
      reader.fail("noise_shape", "all elements to be integers or None");
    }
    shape.push_back(dim.is_null() ? -1 : dim.get<int64_t>());
  }
  return shape;
}

Config NoiseLayer::noise_shape_config(const std::optional<Shape>& noise_shape) {
  if (!noise_shape) return nullptr;
  Config list = Config::array();
  for (const int64_t dim : *noise_shape) list.push_back(dim == -1 ? Config() : Config(dim));
  return list;
}

Config NoiseLayer::config_with_seed() const {
  Config config = Layer::get_config();
  config["seed"] = detail::optional_to_json(seed());
  return config;
}

Shape NoiseLayer::resolved_noise_shape(const std::optional<Shape>& noise_shape,
                                       const Shape& shape) const {
  Shape noise = noise_shape.value_or(shape);
  bool fits = noise.size() == shape.size();
  for (size_t axis = 0; fits && axis < noise.size(); ++axis) {
    if (noise[axis] == -1) noise[axis] = shape[axis];
    fits = noise[axis] == shape[axis] || noise[axis] == 1;
  }
  if (!fits) {
    // np.broadcast_to(mask, inputs.shape) refuses it in Keras.
    throw_value_error(error_source(), "`noise_shape` does not broadcast to the input",
                      "one entry per input axis, each the input's length, 1 or None",
                      "noise_shape=" + detail::keras_shape(*noise_shape) +
                          ", input_shape=" + detail::keras_shape(shape));
  }
  return noise;
}

void NoiseLayer::for_each_noise_index(const Shape& shape, const Shape& noise,
                                      const std::function<void(int64_t, int64_t)>& visit) {
  // Walk the input in row-major order while tracking the flat index of its noise element.
  const Shape noise_strides = contiguous_strides(noise);
  Shape index(shape.size(), 0);
  int64_t noise_index = 0;
  const int64_t count = num_elements(shape);
  for (int64_t i = 0; i < count; ++i) {
    visit(i, noise_index);
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
}

Tensor NoiseLayer::call(const Tensor& inputs, bool training) const {
  check_inputs(inputs.shape());
  if (!training || !perturbs()) return inputs;
  return perturb(inputs, seed_generator_.next_key());
}

LayerForward NoiseLayer::forward(const Tensor& inputs, bool training) const {
  check_inputs(inputs.shape());
  auto saved = std::make_shared<NoiseSaved>();
  saved->layer = this;
  LayerForward result{inputs, nullptr};
  if (training && perturbs()) {
    saved->perturbed = true;
    saved->key = seed_generator_.next_key();
    result.output = perturb(inputs, saved->key);
  }
  result.saved = std::move(saved);
  return result;
}

Tensor NoiseLayer::backward(const LayerForward& forward, const Tensor& d_output,
                            std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<NoiseSaved>(*this, forward, d_output, weight_gradients);
  if (!saved.perturbed) return d_output.clone();
  return perturb_backward(d_output, saved.key);
}

const std::vector<std::string>& NoiseLayer::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs", "training"};
  return parameters;
}

std::vector<KerasTensor> NoiseLayer::compute_output_spec(const SymbolicArguments& arguments) {
  const KerasTensor& x = arguments.tensor("inputs");
  detail::check_dtype(x, DType::kFloat32, error_source(), "inputs");
  check_inputs(x.shape());
  KerasTensor output(x.shape(), DType::kFloat32);
  output.set_keras_mask(x.keras_mask());
  return {output};
}

std::vector<ValuePtr> NoiseLayer::call_node(const ValueArguments& arguments,
                                            const RunContext& context) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const bool training = arguments.flag("training", context.training);
  const Tensor& inputs = detail::float_input(*x, error_source(), "inputs");
  check_inputs(inputs.shape());
  if (!training || !perturbs()) return {x};
  return {make_value(call(inputs, true), x->keras_mask)};
}

OperationForward NoiseLayer::forward_node(const ValueArguments& arguments,
                                          const RunContext& context) const {
  const ValuePtr& x = arguments.tensor("inputs");
  const bool training = arguments.flag("training", context.training);
  LayerForward saved = forward(detail::float_input(*x, error_source(), "inputs"), training);
  return {{!training || !perturbs() ? x : make_value(saved.output, x->keras_mask)},
          detail::save_call(*this, std::move(saved))};
}

ValueGradients NoiseLayer::backward_node(const ValueArguments& arguments,
                                         const BackwardPass& pass) const {
  return detail::unary_backward(*this, arguments, pass);
}

}  // namespace kattn
