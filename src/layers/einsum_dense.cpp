// keras.layers.EinsumDense: _analyze_einsum_string / _analyze_split_string (the weight shapes)
// and EinsumDense.call (ops.einsum, + bias, activation).
#include "kattn/layers/einsum_dense.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <regex>
#include <utility>

#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"
#include "ops/einsum_dense.hpp"

namespace kattn {

namespace {

size_t u(int64_t i) { return static_cast<size_t>(i); }
int64_t length(const std::string& s) { return static_cast<int64_t>(s.size()); }
bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }
std::string dim_string(int64_t dim) { return dim < 0 ? "None" : std::to_string(dim); }
bool has_repeated_letter(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [&](char c) { return s.find(c) != s.rfind(c); });
}

// The strides of `labels` (one letter per axis of a tensor of `shape`) for letter `c`: 0 when
// the tensor has no such axis.
int64_t stride_of(const std::string& labels, const Shape& strides, char c) {
  const size_t axis = labels.find(c);
  return axis == std::string::npos ? 0 : strides[axis];
}

// out (output_labels) += sum over the other letters of x (x_labels) * kernel (kernel_labels):
// a plain loop over every letter, for the equations the matrix product below does not cover.
// An output letter in neither operand broadcasts their product along its axis (the backward
// of an input axis the einsum sums).
void einsum_loop(const std::string& x_labels, const Tensor& x, const std::string& kernel_labels,
                 const Tensor& kernel, const std::string& output_labels, Tensor& out) {
  std::string letters = output_labels;  // output letters first, then the summed ones
  for (const char c : x_labels + kernel_labels) {
    if (!has(letters, c)) letters += c;
  }
  const Shape x_strides = contiguous_strides(x.shape());
  const Shape k_strides = contiguous_strides(kernel.shape());
  const Shape o_strides = contiguous_strides(out.shape());
  struct Letter {
    int64_t size, x, k, o;
  };
  std::vector<Letter> axes;
  for (const char c : letters) {
    const size_t in_out = output_labels.find(c);
    const size_t in_x = x_labels.find(c);
    const int64_t size = in_out != std::string::npos ? out.shape()[in_out]
                         : in_x != std::string::npos ? x.shape()[in_x]
                                                     : kernel.shape()[kernel_labels.find(c)];
    axes.push_back({size, stride_of(x_labels, x_strides, c), stride_of(kernel_labels, k_strides, c),
                    stride_of(output_labels, o_strides, c)});
  }
  for (const Letter& axis : axes) {
    if (axis.size == 0) return;
  }
  std::vector<int64_t> index(axes.size(), 0);
  int64_t x_off = 0, k_off = 0, o_off = 0;
  const float* xv = x.data();
  const float* kv = kernel.data();
  float* ov = out.data();
  while (true) {
    ov[o_off] += xv[x_off] * kv[k_off];
    size_t axis = axes.size();
    while (axis-- > 0) {
      const Letter& a = axes[axis];
      if (++index[axis] < a.size) {
        x_off += a.x, k_off += a.k, o_off += a.o;
        break;
      }
      x_off -= a.x * (a.size - 1), k_off -= a.k * (a.size - 1), o_off -= a.o * (a.size - 1);
      index[axis] = 0;
    }
    if (axis == static_cast<size_t>(-1)) return;
  }
}

// For each element i of a row-major `out_shape` (..., b1, ..., br), the element of a bias
// (b1, ..., br) broadcast onto it (each bias dimension is the output's or 1): visit(i, offset).
template <typename Visit>
void for_each_bias_offset(const Shape& out_shape, const Shape& bias_shape, Visit&& visit) {
  const auto rank = static_cast<int64_t>(out_shape.size());
  const int64_t lead = rank - static_cast<int64_t>(bias_shape.size());
  const Shape bias_strides = contiguous_strides(bias_shape);
  const int64_t count = num_elements(out_shape);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i;
    int64_t offset = 0;
    for (int64_t axis = rank - 1; axis >= lead; --axis) {
      const int64_t position = rest % out_shape[u(axis)];
      rest /= out_shape[u(axis)];
      if (bias_shape[u(axis - lead)] != 1) offset += position * bias_strides[u(axis - lead)];
    }
    visit(i, offset);
  }
}

// out (..., b1, ..., br) += bias (b1, ..., br), where each bias dimension is the output's or 1.
void add_broadcast_bias(const Tensor& bias, Tensor& out) {
  const float* bv = bias.data();
  float* ov = out.data();
  for_each_bias_offset(out.shape(), bias.shape(),
                       [&](int64_t i, int64_t offset) { ov[i] += bv[offset]; });
}

// The backward of add_broadcast_bias: d_bias (b1, ..., br) += d_out (..., b1, ..., br) summed
// over the axes the bias is broadcast along. Both contiguous.
void sum_broadcast_bias(const Tensor& d_out, Tensor& d_bias) {
  const float* dv = d_out.data();
  float* bv = d_bias.data();
  for_each_bias_offset(d_out.shape(), d_bias.shape(),
                       [&](int64_t i, int64_t offset) { bv[offset] += dv[i]; });
}

struct EinsumDenseSaved : detail::SavedForBackward {
  Tensor inputs;  // contiguous
  detail::Activated activated;
};

}  // namespace

EinsumDense::EinsumDense(Args args)
    : UnaryLayer("EinsumDense", LayerArgs{std::move(args.name), args.trainable}, MaskRule::kDrop,
                 BuildRecord::kRecorded),
      equation_(std::move(args.equation)),
      output_shape_(std::move(args.output_shape)),
      activation_(std::move(args.activation)),
      bias_axes_(std::move(args.bias_axes)),
      kernel_(detail::resolved_weight_args(std::move(args.kernel), Initializer::glorot_uniform())),
      bias_(detail::resolved_weight_args(std::move(args.bias), Initializer::zeros())),
      activity_regularizer_(std::move(args.activity_regularizer)) {
  // _analyze_einsum_string: "..." becomes "0", then the three forms are tried with re.match,
  // which anchors at the start only.
  const std::string dotted = std::regex_replace(equation_, std::regex(R"(\.\.\.)"), "0");
  const std::pair<const char*, Elided> forms[] = {
      {"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", Elided::kNone},
      {"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", Elided::kLeft},
      {"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", Elided::kRight}};
  bool matched = false;
  for (const auto& [pattern, side] : forms) {
    std::smatch match;
    if (std::regex_search(dotted, match, std::regex(pattern),
                          std::regex_constants::match_continuous)) {
      input_spec_ = match[1];
      kernel_spec_ = match[2];
      output_spec_ = match[3];
      elided_side_ = side;
      matched = true;
      break;
    }
  }
  if (!matched) {
    throw_value_error(
        error_source(), "Invalid einsum equation '" + equation_ + "'",
        "an equation in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...",
        "equation=" + equation_);
  }
  if (has_repeated_letter(input_spec_) || has_repeated_letter(kernel_spec_) ||
      has_repeated_letter(output_spec_)) {
    // Traces and diagonals ("aa,ab->b") are valid einsums, but no dense layer writes them.
    throw NotSupportedError(error_message(error_source(), "unsupported einsum equation",
                                          "each letter at most once per operand",
                                          "equation=" + equation_));
  }
  for (const int64_t dim : output_shape_) {
    if (dim == -1 || dim > 0) continue;
    throw_value_error(error_source(), "Invalid value for argument `output_shape`",
                      "positive integers or None",
                      "output_shape=" + detail::keras_shape(output_shape_));
  }
}

std::unique_ptr<EinsumDense> EinsumDense::from_config(const Config& config) {
  ConfigReader reader(config, {"EinsumDense", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  if (!reader.has("equation")) reader.fail("equation", "an einsum equation string");
  args.equation = reader.get_string("equation", "");
  // Keras keeps an int n as (n,) and a list as a tuple, None entries included.
  const Config output_shape = reader.get("output_shape", nullptr);
  if (output_shape.is_number_integer()) {
    args.output_shape = {output_shape.get<int64_t>()};
  } else if (output_shape.is_array()) {
    for (const Config& dim : output_shape) {
      if (!dim.is_null() && !dim.is_number_integer()) {
        reader.fail("output_shape", "an int or a list of ints and None");
      }
      args.output_shape.push_back(dim.is_null() ? -1 : dim.get<int64_t>());
    }
  } else {
    reader.fail("output_shape", "an int or a list of ints and None");
  }
  args.activation = ActivationFunction::from_config(reader.get("activation", nullptr));
  const Config bias_axes = reader.get("bias_axes", nullptr);
  if (!bias_axes.is_null()) args.bias_axes = reader.get_string("bias_axes", "");
  args.kernel = detail::read_weight_args(reader, "kernel", "glorot_uniform");
  args.bias = detail::read_weight_args(reader, "bias", "zeros");
  args.activity_regularizer = detail::read_keras_object(reader, "activity_regularizer");
  for (const char* key :
       {"lora_rank", "lora_alpha", "gptq_unpacked_column_size", "quantization_config"}) {
    detail::read_unsupported_argument(reader, key);
  }
  reader.check_all_read();
  return std::make_unique<EinsumDense>(std::move(args));
}

EinsumDense::Analysis EinsumDense::analyze(const Shape& input_shape) const {
  const ErrorSource source = error_source();
  const int64_t rank = static_cast<int64_t>(input_shape.size());
  const int64_t elided = rank - length(input_spec_);
  // ops.einsum needs one input axis per letter, or at least that many with an ellipsis.
  if (rank == 0 || (elided_side_ == Elided::kNone ? elided != 0 : elided < 0)) {
    throw_value_error(source, "Input 0 is incompatible with the layer",
                      (elided_side_ == Elided::kNone ? "ndim=" : "min_ndim=") +
                          std::to_string(std::max<int64_t>(1, length(input_spec_))) +
                          " for equation '" + equation_ + "'",
                      "shape=" + detail::keras_shape(input_shape));
  }
  Shape output = output_shape_;
  output.insert(output.begin(), input_shape[0]);
  if (elided > 0 && elided_side_ == Elided::kLeft) {
    // Keras inserts each at position 1, so axes 1..elided-1 land in reverse order.
    for (int64_t i = 1; i < elided; ++i) output.insert(output.begin() + 1, input_shape[u(i)]);
  } else if (elided > 0) {
    for (int64_t i = rank - elided; i < rank; ++i) output.push_back(input_shape[u(i)]);
  }
  const int64_t offset = elided_side_ == Elided::kLeft ? elided : 0;
  const auto input_dim = [&](char c) { return input_shape[u(offset) + input_spec_.find(c)]; };
  const auto output_at = [&](char c) -> int64_t& {
    const size_t axis = u(offset) + output_spec_.find(c);
    if (axis >= output.size()) {
      throw_value_error(source, "`output_shape` is too short for the equation",
                        "one entry per output axis after the first",
                        "output_shape=" + detail::keras_shape(output_shape_));
    }
    return output[axis];
  };

  for (const char c : input_spec_) {
    if (!has(output_spec_, c)) continue;
    const int64_t out = output_at(c);
    if (out != -1 && out != input_dim(c)) {
      throw_value_error(source,
                        std::string("Input shape and output shape do not match at shared "
                                    "dimension '") +
                            c + "'",
                        "the output_shape entry of '" + std::string(1, c) + "' to be None or " +
                            dim_string(input_dim(c)) + " (the input's)",
                        "output_shape=" + detail::keras_shape(output_shape_));
    }
  }
  for (const char c : output_spec_) {
    if (!has(input_spec_, c) && !has(kernel_spec_, c)) {
      throw_value_error(source,
                        std::string("Dimension '") + c + "' was specified in the output '" +
                            output_spec_ + "' but has no corresponding dim in the input spec '" +
                            input_spec_ + "' or weight spec '" + kernel_spec_ + "'",
                        "every output letter in the input or the kernel", "equation=" + equation_);
    }
  }
  Analysis analysis;
  for (const char c : kernel_spec_) {
    int64_t dim = 0;
    if (has(input_spec_, c)) {
      dim = input_dim(c);
    } else if (has(output_spec_, c)) {
      dim = output_at(c);
    } else {
      throw_value_error(source,
                        std::string("Weight dimension '") + c +
                            "' did not have a match in either the input spec '" + input_spec_ +
                            "' or the output spec '" + output_spec_ + "'",
                        "a fully specified weight", "equation=" + equation_);
    }
    if (dim <= 0) {
      throw_value_error(source, std::string("the kernel dimension '") + c + "' is unknown",
                        "a known input or output_shape dimension",
                        "input_shape=" + detail::keras_shape(input_shape) +
                            ", output_shape=" + detail::keras_shape(output_shape_));
    }
    analysis.kernel_shape.push_back(dim);
  }
  if (bias_axes_) {
    size_t first = output_spec_.size();
    for (const char c : *bias_axes_) {
      if (!has(output_spec_, c)) {
        throw_value_error(source,
                          std::string("Bias dimension '") + c +
                              "' was requested, but is not part of the output spec '" +
                              output_spec_ + "'",
                          "letters of the output spec", "bias_axes=" + *bias_axes_);
      }
      first = std::min(first, output_spec_.find(c));
    }
    Shape bias;
    for (size_t i = first; i < output_spec_.size(); ++i) {
      const char c = output_spec_[i];
      const int64_t dim = has(*bias_axes_, c) ? output_at(c) : 1;
      if (dim <= 0) {
        throw_value_error(source, std::string("the bias dimension '") + c + "' is unknown",
                          "a known input or output_shape dimension",
                          "input_shape=" + detail::keras_shape(input_shape) +
                              ", output_shape=" + detail::keras_shape(output_shape_));
      }
      bias.push_back(dim);
    }
    if (elided_side_ != Elided::kLeft) bias.insert(bias.end(), u(elided), 1);
    analysis.bias_shape = bias;
  }
  analysis.output_shape = output;
  return analysis;
}

void EinsumDense::build(const Shape& input_shape) {
  build_once([&] { build_weights(input_shape); });
}

void EinsumDense::build_weights(const Shape& input_shape) {
  const Analysis analysis = analyze(input_shape);
  // EinsumDense.build: kernel, then bias.
  add_weight("kernel", analysis.kernel_shape, kernel_);
  if (analysis.bias_shape) add_weight("bias", *analysis.bias_shape, bias_);
  built_rank_ = static_cast<int64_t>(input_shape.size());
}

Shape EinsumDense::compute_output_shape(const Shape& input_shape) const {
  return analyze(input_shape).output_shape;
}

EinsumDense::CallLabels EinsumDense::prepare(const Tensor& inputs) const {
  build_once([&] { const_cast<EinsumDense*>(this)->build_weights(inputs.shape()); });
  const ErrorSource source = error_source();
  const Tensor& kernel = weights()[0].value;
  // Keras's InputSpec(ndim=...) from build.
  if (inputs.rank() != built_rank_) {
    throw_value_error(source, "Input 0 is incompatible with the layer",
                      "ndim=" + std::to_string(built_rank_),
                      "shape=" + detail::keras_shape(inputs.shape()));
  }
  std::string free_letters;
  for (char c = 'A'; c <= 'z'; ++c) {
    if (std::isalpha(static_cast<unsigned char>(c)) &&
        !has(input_spec_ + kernel_spec_ + output_spec_, c)) {
      free_letters += c;
    }
  }
  const std::string ellipsis = free_letters.substr(0, u(inputs.rank() - length(input_spec_)));
  CallLabels labels;
  labels.inputs = elided_side_ == Elided::kLeft ? ellipsis + input_spec_ : input_spec_ + ellipsis;
  labels.output = elided_side_ == Elided::kLeft ? ellipsis + output_spec_ : output_spec_ + ellipsis;
  for (const char c : labels.output) {
    const size_t in_x = labels.inputs.find(c);
    labels.output_shape.push_back(in_x != std::string::npos ? inputs.shape()[in_x]
                                                            : kernel.shape()[kernel_spec_.find(c)]);
  }
  for (size_t axis = 0; axis < kernel_spec_.size(); ++axis) {
    const size_t in_x = labels.inputs.find(kernel_spec_[axis]);
    if (in_x != std::string::npos && inputs.shape()[in_x] != kernel.shape()[axis]) {
      throw_value_error(source, "input shape does not match the kernel",
                        std::string("dimension '") + kernel_spec_[axis] + "' of length " +
                            std::to_string(kernel.shape()[axis]),
                        "shape=" + detail::keras_shape(inputs.shape()));
    }
  }
  std::string contracted;
  for (const char c : labels.inputs) {
    if (has(kernel_spec_, c) && !has(labels.output, c)) contracted += c;
  }
  const std::string free = labels.inputs.substr(0, labels.inputs.size() - contracted.size());
  labels.is_product = labels.inputs == free + contracted &&
                      kernel_spec_.compare(0, contracted.size(), contracted) == 0 &&
                      labels.output == free + kernel_spec_.substr(contracted.size());
  labels.contracted = length(contracted);
  return labels;
}

Tensor EinsumDense::linear(const Tensor& inputs, const CallLabels& labels) const {
  const Tensor& kernel = weights()[0].value;
  Tensor output;
  if (labels.is_product) {
    output = ops::einsum_dense(inputs, labels.contracted, kernel, nullptr);
  } else {
    output = Tensor(labels.output_shape);
    einsum_loop(labels.inputs, inputs.contiguous(), kernel_spec_, kernel.contiguous(),
                labels.output, output);
  }
  if (bias_axes_) add_broadcast_bias(weights()[1].value.contiguous(), output);
  return output;
}

Tensor EinsumDense::call(const Tensor& inputs) const {
  Tensor output = linear(inputs, prepare(inputs));
  activation_(output);
  return output;
}

LayerForward EinsumDense::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<EinsumDenseSaved>();
  saved->layer = this;
  saved->inputs = inputs.contiguous();
  saved->activated = detail::activate(activation_, linear(saved->inputs, prepare(inputs)));
  return {saved->activated.output, std::move(saved)};
}

Tensor EinsumDense::backward(const LayerForward& forward, const Tensor& d_output,
                             std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<EinsumDenseSaved>(*this, forward, d_output, weight_gradients);
  const CallLabels labels = prepare(saved.inputs);
  const Tensor& kernel = weights()[0].value;
  // output = activation(linear)
  const Tensor d_linear =
      detail::activation_backward(activation_, saved.activated, d_output).contiguous();
  // linear = einsum + bias
  if (bias_axes_) sum_broadcast_bias(d_linear, weight_gradients[1]);
  if (labels.is_product) {
    return ops::einsum_dense_backward(saved.inputs, labels.contracted, kernel, d_linear,
                                      weight_gradients[0], nullptr);
  }
  // einsum = sum over the other letters of inputs * kernel: each operand's gradient is the
  // einsum of d_linear with the other one.
  Tensor d_inputs(saved.inputs.shape());
  einsum_loop(labels.output, d_linear, kernel_spec_, kernel.contiguous(), labels.inputs, d_inputs);
  einsum_loop(labels.inputs, saved.inputs, labels.output, d_linear, kernel_spec_,
              weight_gradients[0]);
  return d_inputs;
}

Config EinsumDense::get_config() const {
  Config config = Layer::get_config();
  Config output_shape = Config::array();
  for (const int64_t dim : output_shape_)
    output_shape.push_back(dim == -1 ? Config() : Config(dim));
  config["output_shape"] = output_shape;
  config["equation"] = equation_;
  config["activation"] = activation_.get_config();
  config["bias_axes"] = bias_axes_ ? Config(*bias_axes_) : Config();
  detail::write_weight_args(config, "kernel", kernel_);
  detail::write_weight_args(config, "bias", bias_);
  config["activity_regularizer"] = activity_regularizer_;
  config["quantization_config"] = nullptr;
  return config;
}

}  // namespace kattn
