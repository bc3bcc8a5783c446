// keras.layers.Merge and its Add, Subtract, Multiply, Average, Maximum, Minimum and Concatenate.
#include "kattn/layers/merging.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "core/broadcast.hpp"
#include "core/node_inputs.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "ops/numpy_operations.hpp"

namespace kattn {

namespace {

using detail::broadcast_shapes;
using detail::broadcast_to;
using detail::keras_shape;

std::vector<Shape> shapes_of(const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  shapes.reserve(inputs.size());
  for (const Tensor& input : inputs) shapes.push_back(input.shape());
  return shapes;
}

// "[(None, 3), (None, 4)]", as Keras prints a list of shapes.
std::string shapes_string(const std::vector<Shape>& shapes) {
  std::string text = "[";
  for (size_t i = 0; i < shapes.size(); ++i) text += (i > 0 ? ", " : "") + keras_shape(shapes[i]);
  return text + "]";
}

// numpy.concatenate(parts, axis) of contiguous parts equal off `axis` (0 <= axis < rank).
template <typename T>
BasicTensor<T> concatenate(const std::vector<BasicTensor<T>>& parts, int64_t axis) {
  Shape shape = parts[0].shape();
  const auto a = static_cast<size_t>(axis);
  shape[a] = 0;
  for (const BasicTensor<T>& part : parts) shape[a] += part.shape()[a];
  BasicTensor<T> out(shape);
  int64_t outer = 1;
  for (size_t i = 0; i < a; ++i) outer *= shape[i];
  T* dst = out.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (const BasicTensor<T>& part : parts) {
      const int64_t block = part.size() / std::max<int64_t>(outer, 1);  // part.shape[axis:]
      const T* src = part.data() + o * block;
      dst = std::copy(src, src + block, dst);
    }
  }
  return out;
}

struct MergeSaved : detail::SavedForBackward {
  std::vector<Tensor> inputs;
  std::vector<std::optional<Mask>> masks;
  Shape output_shape;
};

template <typename MergeLayer>
std::unique_ptr<MergeLayer> merge_from_config(const Config& config, std::string_view class_name) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
  typename MergeLayer::Args args;
  read_base_args(reader, args);
  reader.check_all_read();
  return std::make_unique<MergeLayer>(std::move(args));
}

}  // namespace

Merge::Merge(std::string class_name, LayerArgs args)
    : Layer(std::move(class_name), std::move(args)) {}

void Merge::build(const std::vector<Shape>& input_shapes) {
  compute_output_shape(input_shapes);
  build_once([] {});
}

Shape Merge::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  const ErrorSource source = error_source();
  if (input_shapes.empty()) {
    throw_value_error(source, "A merge layer should be called on a list of at least 1 input",
                      "a list of at least 1 input", "0 inputs");
  }
  std::set<int64_t> batch_sizes;
  for (const Shape& shape : input_shapes) {
    if (shape.empty()) {
      throw_value_error(source, "A merge layer needs inputs with a batch axis",
                        "inputs of rank >= 1", "input_shape=" + shapes_string(input_shapes));
    }
    if (shape[0] >= 0) batch_sizes.insert(shape[0]);
  }
  if (batch_sizes.size() > 1) {
    throw_value_error(source, "Cannot merge tensors with different batch sizes", "one batch size",
                      "input_shape=" + shapes_string(input_shapes));
  }
  // Merge._compute_elemwise_op_output_shape, folded over the inputs' non-batch axes.
  Shape output(input_shapes[0].begin() + 1, input_shapes[0].end());
  for (size_t i = 1; i < input_shapes.size(); ++i) {
    const Shape other(input_shapes[i].begin() + 1, input_shapes[i].end());
    const Shape& longer = output.size() >= other.size() ? output : other;
    const Shape& shorter = output.size() >= other.size() ? other : output;
    const size_t lead = longer.size() - shorter.size();
    Shape merged(longer.begin(), longer.begin() + static_cast<std::ptrdiff_t>(lead));
    for (size_t a = 0; a < shorter.size(); ++a) {
      const int64_t l = longer[lead + a], s = shorter[a];
      if (l < 0 || s < 0) {
        merged.push_back(-1);
      } else if (l == 1 || s == 1) {
        merged.push_back(l == 1 ? s : l);
      } else if (l != s) {
        throw_value_error(source, "Inputs have incompatible shapes",
                          "shapes that broadcast (equal dimensions or 1, aligned on the right)",
                          "input_shape=" + shapes_string(input_shapes));
      } else {
        merged.push_back(l);
      }
    }
    output = std::move(merged);
  }
  output.insert(output.begin(), batch_sizes.empty() ? -1 : *batch_sizes.begin());
  return output;
}

Tensor Merge::call(const std::vector<Tensor>& inputs,
                   const std::vector<std::optional<Mask>>& masks) const {
  const Shape output_shape = compute_output_shape(shapes_of(inputs));
  build_once([] {});
  if (masks.empty()) return merge_function(inputs, output_shape);
  check_mask_count(inputs, masks);
  return masked_merge_function(inputs, masks, output_shape);
}

LayerForward Merge::forward(const std::vector<Tensor>& inputs,
                            const std::vector<std::optional<Mask>>& masks) const {
  auto saved = std::make_shared<MergeSaved>();
  saved->layer = this;
  saved->output_shape = compute_output_shape(shapes_of(inputs));
  build_once([] {});
  saved->inputs = inputs;
  saved->masks = masks;
  Tensor output = call(inputs, masks);
  return {std::move(output), std::move(saved)};
}

std::vector<Tensor> Merge::backward(const LayerForward& forward, const Tensor& d_output,
                                    std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<MergeSaved>(*this, forward, d_output, weight_gradients);
  if (saved.masks.empty()) {
    return merge_backward(saved.inputs, saved.output_shape, d_output.contiguous());
  }
  return masked_merge_backward(saved.inputs, saved.masks, saved.output_shape,
                               d_output.contiguous());
}

Tensor Merge::masked_merge_function(const std::vector<Tensor>& inputs,
                                    const std::vector<std::optional<Mask>>& /*masks*/,
                                    const Shape& output_shape) const {
  return merge_function(inputs, output_shape);
}

std::vector<Tensor> Merge::masked_merge_backward(const std::vector<Tensor>& inputs,
                                                 const std::vector<std::optional<Mask>>& /*masks*/,
                                                 const Shape& output_shape,
                                                 const Tensor& d_output) const {
  return merge_backward(inputs, output_shape, d_output);
}

std::vector<std::optional<Mask>> Merge::element_masks(const std::vector<Tensor>& inputs,
                                                      const std::vector<std::optional<Mask>>& masks,
                                                      const Shape& output_shape) const {
  std::vector<std::optional<Mask>> stretched(inputs.size());
  for (size_t i = 0; i < masks.size(); ++i) {
    if (!masks[i] || inputs[i].rank() < static_cast<int64_t>(output_shape.size())) continue;
    const Mask& mask = *masks[i];
    const std::optional<Shape> fits = broadcast_shapes(
        Shape(inputs[i].shape().begin(), inputs[i].shape().end() - 1), mask.shape());
    if (mask.rank() + 1 != inputs[i].rank() || !fits) {
      throw_value_error(error_source(), "A mask does not fit its input",
                        "a mask of shape " + keras_shape(Shape(inputs[i].shape().begin(),
                                                               inputs[i].shape().end() - 1)),
                        "mask_shape=" + keras_shape(mask.shape()) + " for input " +
                            std::to_string(i) + " of shape " + keras_shape(inputs[i].shape()));
    }
    stretched[i] =
        broadcast_to(broadcast_to(mask.expand_dims(mask.rank()), inputs[i].shape()), output_shape);
  }
  return stretched;
}

Tensor Merge::broadcast_input(const Tensor& input, const Shape& output_shape) {
  Tensor x = input;
  while (x.rank() < static_cast<int64_t>(output_shape.size())) x = x.expand_dims(1);
  return broadcast_to(x, output_shape);
}

Tensor Merge::sum_to_input(const Tensor& d, const Tensor& input) {
  // broadcast_input: axes of length 1 after the batch axis up to d's rank, then each axis of
  // length 1 stretched to d's.
  Shape expanded = input.shape();
  while (expanded.size() < d.shape().size()) expanded.insert(expanded.begin() + 1, 1);
  return detail::sum_to_shape(d, expanded).reshape(input.shape());
}

Tensor Merge::elementwise_merge(const std::vector<Tensor>& inputs, const Shape& output_shape,
                                void (*op)(float* out, const float* x, int64_t n)) {
  // The first input's broadcast copy is the accumulator; it must not share the input's storage.
  Tensor output = broadcast_input(inputs[0], output_shape);
  if (output.data() == inputs[0].data()) output = output.clone();
  for (size_t i = 1; i < inputs.size(); ++i) {
    op(output.data(), broadcast_input(inputs[i], output_shape).data(), output.size());
  }
  return output;
}

void Merge::check_mask_count(const std::vector<Tensor>& inputs,
                             const std::vector<std::optional<Mask>>& masks) const {
  if (masks.size() == inputs.size()) return;
  throw_value_error(error_source(), "The lists `inputs` and `mask` should have the same length",
                    std::to_string(inputs.size()) + " masks, one per input",
                    "mask of length " + std::to_string(masks.size()));
}

std::optional<Mask> Merge::compute_mask(const std::vector<Tensor>& inputs,
                                        const std::vector<std::optional<Mask>>& masks) const {
  if (masks.empty()) return std::nullopt;
  check_mask_count(inputs, masks);
  // Merge.compute_mask: `if any(m is None for m in mask): return None`, else the OR (numpy
  // broadcasting, as ops.logical_or).
  if (std::any_of(masks.begin(), masks.end(), [](const auto& m) { return !m; })) {
    return std::nullopt;
  }
  Shape shape = masks[0]->shape();
  for (const std::optional<Mask>& mask : masks) {
    const std::optional<Shape> merged = broadcast_shapes(shape, mask->shape());
    if (!merged) {
      throw_value_error(error_source(), "The input masks do not broadcast together",
                        "masks of broadcastable shapes",
                        "mask shapes " + keras_shape(shape) + " and " + keras_shape(mask->shape()));
    }
    shape = *merged;
  }
  Mask output = broadcast_to(*masks[0], shape).clone();
  for (size_t i = 1; i < masks.size(); ++i) {
    const Mask other = broadcast_to(*masks[i], shape);
    for (int64_t j = 0; j < output.size(); ++j) output.data()[j] |= other.data()[j];
  }
  return output;
}

Add::Add() : Add(Args{}) {}

Add::Add(Args args) : Merge("Add", LayerArgs{std::move(args.name), args.trainable}) {}

std::unique_ptr<Add> Add::from_config(const Config& config) {
  return merge_from_config<Add>(config, "Add");
}

Tensor Add::merge_function(const std::vector<Tensor>& inputs, const Shape& output_shape) const {
  return elementwise_merge(inputs, output_shape, [](float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] += x[i];
  });
}

std::vector<Tensor> Add::merge_backward(const std::vector<Tensor>& inputs,
                                        const Shape& /*output_shape*/,
                                        const Tensor& d_output) const {
  // out = x_0 + x_1 + ...: each input gets d_output, summed where it was broadcast.
  std::vector<Tensor> grads;
  for (const Tensor& input : inputs) grads.push_back(sum_to_input(d_output, input));
  return grads;
}

Subtract::Subtract() : Subtract(Args{}) {}

Subtract::Subtract(Args args)
    : Merge("Subtract", LayerArgs{std::move(args.name), args.trainable}) {}

std::unique_ptr<Subtract> Subtract::from_config(const Config& config) {
  return merge_from_config<Subtract>(config, "Subtract");
}

Shape Subtract::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != 2) {
    throw_value_error(error_source(), "A `Subtract` layer should be called on exactly 2 inputs",
                      "2 inputs", "input_shape=" + shapes_string(input_shapes));
  }
  return Merge::compute_output_shape(input_shapes);
}

Tensor Subtract::merge_function(const std::vector<Tensor>& inputs,
                                const Shape& output_shape) const {
  return elementwise_merge(inputs, output_shape, [](float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] -= x[i];
  });
}

std::vector<Tensor> Subtract::merge_backward(const std::vector<Tensor>& inputs,
                                             const Shape& /*output_shape*/,
                                             const Tensor& d_output) const {
  // out = x_0 - x_1: d x_0 = d_output, d x_1 = -d_output, each summed where it was broadcast.
  Tensor negated = d_output.clone();
  for (int64_t i = 0; i < negated.size(); ++i) negated.data()[i] = -negated.data()[i];
  return {sum_to_input(d_output, inputs[0]), sum_to_input(negated, inputs[1])};
}

Average::Average() : Average(Args{}) {}

Average::Average(Args args) : Merge("Average", LayerArgs{std::move(args.name), args.trainable}) {}

std::unique_ptr<Average> Average::from_config(const Config& config) {
  return merge_from_config<Average>(config, "Average");
}

Tensor Average::merge_function(const std::vector<Tensor>& inputs, const Shape& output_shape) const {
  // Keras's Average: the running sum, then one division by the number of inputs.
  Tensor output =
      elementwise_merge(inputs, output_shape, [](float* out, const float* x, int64_t n) {
        for (int64_t i = 0; i < n; ++i) out[i] += x[i];
      });
  const auto count = static_cast<float>(inputs.size());
  for (int64_t i = 0; i < output.size(); ++i) output.data()[i] /= count;
  return output;
}

std::vector<Tensor> Average::merge_backward(const std::vector<Tensor>& inputs,
                                            const Shape& /*output_shape*/,
                                            const Tensor& d_output) const {
  // out = (x_0 + x_1 + ...) / n: each input gets d_output / n, summed where it was broadcast.
  Tensor scaled = d_output.clone();
  const auto count = static_cast<float>(inputs.size());
  for (int64_t i = 0; i < scaled.size(); ++i) scaled.data()[i] /= count;
  std::vector<Tensor> grads;
  for (const Tensor& input : inputs) grads.push_back(sum_to_input(scaled, input));
  return grads;
}

ElementwiseExtremum::ElementwiseExtremum(std::string class_name, LayerArgs args, bool maximum)
    : Merge(std::move(class_name), std::move(args)), maximum_(maximum) {}

Tensor ElementwiseExtremum::merge_function(const std::vector<Tensor>& inputs,
                                           const Shape& output_shape) const {
  return masked_merge_function(inputs, {}, output_shape);
}

std::vector<Tensor> ElementwiseExtremum::merge_backward(const std::vector<Tensor>& inputs,
                                                        const Shape& output_shape,
                                                        const Tensor& d_output) const {
  return masked_merge_backward(inputs, {}, output_shape, d_output);
}

Tensor ElementwiseExtremum::step(const Tensor& p, const Tensor& x,
                                 const std::optional<Mask>& running,
                                 const std::optional<Mask>& m) const {
  Tensor next(p.shape());
  for (int64_t i = 0; i < next.size(); ++i) {
    const float b = !m || m->data()[i] ? x.data()[i] : p.data()[i];
    const float a = !running || running->data()[i] ? p.data()[i] : b;
    next.data()[i] = beats(b, a) ? b : a;
  }
  return next;
}

std::optional<Mask> ElementwiseExtremum::or_masks(const std::optional<Mask>& running,
                                                  const std::optional<Mask>& m) {
  if (!running || !m) return std::nullopt;
  Mask both = running->clone();
  for (int64_t i = 0; i < both.size(); ++i) both.data()[i] |= m->data()[i];
  return both;
}

Tensor ElementwiseExtremum::masked_merge_function(const std::vector<Tensor>& inputs,
                                                  const std::vector<std::optional<Mask>>& masks,
                                                  const Shape& output_shape) const {
  // p_0 = x_0, om_0 = m_0; p_k = op(a, b) with b = m_k ? x_k : p_{k-1} and a = om_{k-1} ?
  // p_{k-1} : b; om_k = om_{k-1} | m_k while both exist.
  const std::vector<std::optional<Mask>> element = element_masks(inputs, masks, output_shape);
  Tensor output = broadcast_input(inputs[0], output_shape);
  std::optional<Mask> running = element[0];
  for (size_t k = 1; k < inputs.size(); ++k) {
    output = step(output, broadcast_input(inputs[k], output_shape), running, element[k]);
    running = or_masks(running, element[k]);
  }
  return output;
}

std::vector<Tensor> ElementwiseExtremum::masked_merge_backward(
    const std::vector<Tensor>& inputs, const std::vector<std::optional<Mask>>& masks,
    const Shape& output_shape, const Tensor& d_output) const {
  // The forward again, keeping each step's running result and mask; then backwards over k,
  // d p_k goes to b where b beats a, to a where it loses, half to each on a tie; a replaced by
  // b hands its share to b, b replaced by p_{k-1} hands its share to p_{k-1}.
  const std::vector<std::optional<Mask>> element = element_masks(inputs, masks, output_shape);
  std::vector<Tensor> broadcast;
  for (const Tensor& input : inputs) broadcast.push_back(broadcast_input(input, output_shape));
  std::vector<Tensor> partials{broadcast[0]};
  std::vector<std::optional<Mask>> running{element[0]};
  for (size_t k = 1; k < inputs.size(); ++k) {
    partials.push_back(step(partials.back(), broadcast[k], running.back(), element[k]));
    running.push_back(or_masks(running.back(), element[k]));
  }
  std::vector<Tensor> grads(inputs.size());
  Tensor d = d_output.clone();
  for (size_t k = inputs.size() - 1; k >= 1; --k) {
    Tensor d_x = Tensor::full(output_shape, 0.0f);
    const float* x = broadcast[k].data();
    const float* p = partials[k - 1].data();
    const std::optional<Mask>& m = element[k];
    const std::optional<Mask>& om = running[k - 1];
    for (int64_t i = 0; i < d.size(); ++i) {
      const bool b_kept = !m || m->data()[i];
      const bool a_kept = !om || om->data()[i];
      const float b = b_kept ? x[i] : p[i];
      const float a = a_kept ? p[i] : b;
      const float share = beats(b, a) ? 1.0f : (a == b ? 0.5f : 0.0f);
      float d_b = d.data()[i] * share;
      float d_a = d.data()[i] - d_b;
      if (!a_kept) {
        d_b += d_a;
        d_a = 0.0f;
      }
      if (b_kept) {
        d_x.data()[i] = d_b;
      } else {
        d_a += d_b;
      }
      d.data()[i] = d_a;
    }
    grads[k] = sum_to_input(d_x, inputs[k]);
  }
  grads[0] = sum_to_input(d, inputs[0]);
  return grads;
}

Maximum::Maximum() : Maximum(Args{}) {}

Maximum::Maximum(Args args)
    : ElementwiseExtremum("Maximum", LayerArgs{std::move(args.name), args.trainable}, true) {}

std::unique_ptr<Maximum> Maximum::from_config(const Config& config) {
  return merge_from_config<Maximum>(config, "Maximum");
}

Minimum::Minimum() : Minimum(Args{}) {}

Minimum::Minimum(Args args)
    : ElementwiseExtremum("Minimum", LayerArgs{std::move(args.name), args.trainable}, false) {}

std::unique_ptr<Minimum> Minimum::from_config(const Config& config) {
  return merge_from_config<Minimum>(config, "Minimum");
}

Multiply::Multiply() : Multiply(Args{}) {}

Multiply::Multiply(Args args)
    : Merge("Multiply", LayerArgs{std::move(args.name), args.trainable}) {}

std::unique_ptr<Multiply> Multiply::from_config(const Config& config) {
  return merge_from_config<Multiply>(config, "Multiply");
}

Tensor Multiply::merge_function(const std::vector<Tensor>& inputs,
                                const Shape& output_shape) const {
  return elementwise_merge(inputs, output_shape, [](float* out, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] *= x[i];
  });
}

std::vector<Tensor> Multiply::merge_backward(const std::vector<Tensor>& inputs,
                                             const Shape& output_shape,
                                             const Tensor& d_output) const {
  // out = x_0 * x_1 * ...: d x_i = d_output times the other inputs (products, not quotients:
  // an input may hold zeros).
  std::vector<Tensor> broadcast;
  for (const Tensor& input : inputs) broadcast.push_back(broadcast_input(input, output_shape));
  std::vector<Tensor> grads;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor d = d_output.clone();
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (j == i) continue;
      const float* x = broadcast[j].data();
      for (int64_t k = 0; k < d.size(); ++k) d.data()[k] *= x[k];
    }
    grads.push_back(sum_to_input(d, inputs[i]));
  }
  return grads;
}

Multiply::Masked Multiply::masked_inputs(const std::vector<Tensor>& inputs,
                                         const std::vector<std::optional<Mask>>& masks,
                                         const Shape& output_shape) const {
  const std::vector<std::optional<Mask>> element = element_masks(inputs, masks, output_shape);
  Masked masked;
  const bool every_mask =
      std::all_of(element.begin(), element.end(), [](const auto& m) { return m.has_value(); });
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = broadcast_input(inputs[k], output_shape).clone();
    if (element[k]) {
      for (int64_t i = 0; i < x.size(); ++i) {
        if (!element[k]->data()[i]) x.data()[i] = 1.0f;
      }
      if (every_mask && !masked.output_mask) {
        masked.output_mask = element[k]->clone();
      } else if (every_mask) {
        for (int64_t i = 0; i < x.size(); ++i)
          masked.output_mask->data()[i] |= element[k]->data()[i];
      }
    }
    masked.inputs.push_back(std::move(x));
  }
  return masked;
}

Tensor Multiply::masked_merge_function(const std::vector<Tensor>& inputs,
                                       const std::vector<std::optional<Mask>>& masks,
                                       const Shape& output_shape) const {
  const Masked masked = masked_inputs(inputs, masks, output_shape);
  Tensor output = merge_function(masked.inputs, output_shape);
  if (masked.output_mask) {
    for (int64_t i = 0; i < output.size(); ++i) {
      if (!masked.output_mask->data()[i]) output.data()[i] = 0.0f;
    }
  }
  return output;
}

std::vector<Tensor> Multiply::masked_merge_backward(const std::vector<Tensor>& inputs,
                                                    const std::vector<std::optional<Mask>>& masks,
                                                    const Shape& output_shape,
                                                    const Tensor& d_output) const {
  // The unmasked backward on the masked inputs, with d_output stopped where the output was set
  // to 0 and each input's gradient stopped where it was replaced by 1.
  const Masked masked = masked_inputs(inputs, masks, output_shape);
  const std::vector<std::optional<Mask>> element = element_masks(inputs, masks, output_shape);
  Tensor d = d_output.clone();
  if (masked.output_mask) {
    for (int64_t i = 0; i < d.size(); ++i) {
      if (!masked.output_mask->data()[i]) d.data()[i] = 0.0f;
    }
  }
  std::vector<Tensor> grads = merge_backward(masked.inputs, output_shape, d);
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (element[k]) {
      for (int64_t i = 0; i < grads[k].size(); ++i) {
        if (!element[k]->data()[i]) grads[k].data()[i] = 0.0f;
      }
    }
    grads[k] = sum_to_input(grads[k], inputs[k]);
  }
  return grads;
}

Concatenate::Concatenate() : Concatenate(Args{}) {}

Concatenate::Concatenate(Args args)
    : Merge("Concatenate", LayerArgs{std::move(args.name), args.trainable}), axis_(args.axis) {}

std::unique_ptr<Concatenate> Concatenate::from_config(const Config& config) {
  ConfigReader reader(config, {"Concatenate", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.axis = reader.get_int("axis", -1);
  reader.check_all_read();
  return std::make_unique<Concatenate>(std::move(args));
}

Shape Concatenate::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  const ErrorSource source = error_source();
  if (input_shapes.empty()) {
    throw_value_error(source,
                      "A `Concatenate` layer should be called on a list of at least 1 input",
                      "a list of at least 1 input", "input_shape=[]");
  }
  const auto rank = static_cast<int64_t>(input_shapes[0].size());
  if (axis_ < -rank || axis_ >= rank) {
    throw_value_error(
        source, "`axis` is out of bounds for the inputs",
        "an axis in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
        "axis=" + std::to_string(axis_) + ", input_shape=" + shapes_string(input_shapes));
  }
  const auto axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
  Shape output = input_shapes[0];
  for (size_t i = 1; i < input_shapes.size(); ++i) {
    const Shape& shape = input_shapes[i];
    bool matches = static_cast<int64_t>(shape.size()) == rank;
    for (size_t a = 0; matches && a < shape.size(); ++a) {
      if (a == axis || shape[a] < 0) continue;
      if (output[a] >= 0 && output[a] != shape[a]) matches = false;
      if (output[a] < 0) output[a] = shape[a];
    }
    if (!matches) {
      throw_value_error(source,
                        "A `Concatenate` layer requires inputs with matching shapes except for "
                        "the concatenation axis",
                        "equal ranks and equal dimensions off axis=" + std::to_string(axis_),
                        "input_shape=" + shapes_string(input_shapes));
    }
    output[axis] = output[axis] < 0 || shape[axis] < 0 ? -1 : output[axis] + shape[axis];
  }
  // Known dims of later inputs do not fill in unknown ones: Keras keeps the first input's.
  for (size_t a = 0; a < output.size(); ++a) {
    if (a != axis) output[a] = input_shapes[0][a];
  }
  return output;
}

Tensor Concatenate::merge_function(const std::vector<Tensor>& inputs,
                                   const Shape& output_shape) const {
  std::vector<Tensor> parts;
  parts.reserve(inputs.size());
  for (const Tensor& input : inputs) parts.push_back(input.contiguous());
  const auto rank = static_cast<int64_t>(output_shape.size());
  return concatenate(parts, axis_ < 0 ? axis_ + rank : axis_);
}

std::vector<Tensor> Concatenate::merge_backward(const std::vector<Tensor>& inputs,
                                                const Shape& output_shape,
                                                const Tensor& d_output) const {
  // out = concatenate(inputs, axis): each input's gradient is its slice of d_output.
  const auto rank = static_cast<int64_t>(output_shape.size());
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  std::vector<Tensor> grads;
  int64_t begin = 0;
  for (const Tensor& input : inputs) {
    const int64_t end = begin + input.dim(axis);
    grads.push_back(d_output.slice(axis, begin, end).clone());
    begin = end;
  }
  return grads;
}

std::optional<Mask> Concatenate::compute_mask(const std::vector<Tensor>& inputs,
                                              const std::vector<std::optional<Mask>>& masks) const {
  if (masks.empty()) return std::nullopt;
  check_mask_count(inputs, masks);
  if (std::none_of(masks.begin(), masks.end(), [](const auto& m) { return m.has_value(); })) {
    return std::nullopt;
  }
  const Shape output_shape = compute_output_shape(shapes_of(inputs));
  // Concatenate.compute_mask: each mask brought to its input's shape, concatenated along the
  // axis, then any() over the last axis.
  std::vector<Mask> parts;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& shape = inputs[i].shape();
    if (!masks[i]) {
      parts.push_back(Mask::full(shape, true));  // ops.ones_like(input, dtype="bool")
      continue;
    }
    Mask mask = *masks[i];
    if (mask.rank() < inputs[i].rank()) mask = mask.expand_dims(mask.rank());
    if (!broadcast_shapes(mask.shape(), shape) || *broadcast_shapes(mask.shape(), shape) != shape) {
      throw_value_error(error_source(), "A mask does not fit its input",
                        "a mask of shape " + keras_shape(Shape(shape.begin(), shape.end() - 1)),
                        "mask_shape=" + keras_shape(masks[i]->shape()) +
                            " for input_shape=" + keras_shape(shape));
    }
    parts.push_back(broadcast_to(mask, shape));
  }
  const auto rank = static_cast<int64_t>(output_shape.size());
  const Mask joined = concatenate(parts, axis_ < 0 ? axis_ + rank : axis_);
  const int64_t last = joined.dim(-1);
  Mask output(Shape(joined.shape().begin(), joined.shape().end() - 1));
  for (int64_t i = 0; i < output.size(); ++i) {
    const bool* row = joined.data() + i * last;
    output.data()[i] = std::any_of(row, row + last, [](bool m) { return m; });
  }
  return output;
}

Config Concatenate::get_config() const {
  Config config = Merge::get_config();
  config["axis"] = axis_;
  return config;
}

namespace {

// A node's `inputs` list: at least one tensor, none missing.
template <typename Leaf>
std::vector<Leaf> merge_inputs(const BoundArguments<Leaf>& arguments, ErrorSource source) {
  std::vector<Leaf> inputs;
  for (const std::optional<Leaf>& input : arguments.tensor_list("inputs")) {
    if (!input) {
      throw_value_error(source, "invalid call argument `inputs`", "a list of tensors",
                        "a list containing None");
    }
    inputs.push_back(*input);
  }
  if (inputs.empty()) {
    throw_value_error(source, "invalid call argument `inputs`", "a list of at least one tensor",
                      "no tensors");
  }
  return inputs;
}

// The inputs' Keras masks as compute_mask takes them: an empty list when none has one (Keras
// passes mask=None then).
std::vector<std::optional<Mask>> input_masks(const std::vector<ValuePtr>& inputs) {
  std::vector<std::optional<Mask>> masks;
  for (const ValuePtr& input : inputs) masks.push_back(input->keras_mask);
  const bool any_mask =
      std::any_of(masks.begin(), masks.end(), [](const auto& mask) { return mask.has_value(); });
  if (!any_mask) masks.clear();
  return masks;
}

}  // namespace

const std::vector<std::string>& Merge::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs"};
  return parameters;
}

std::vector<KerasTensor> Merge::compute_output_spec(const SymbolicArguments& arguments) {
  const std::vector<KerasTensor> inputs = merge_inputs(arguments, error_source());
  detail::ListInputShapes input_shapes = detail::float_input_shapes(inputs, error_source());
  const std::vector<Shape>& shapes = input_shapes.shapes;
  build(shapes);
  record_build_config(std::move(input_shapes.build_config));
  KerasTensor output(compute_output_shape(shapes), DType::kFloat32);
  if (records_symbolic_mask()) {
    std::optional<KerasTensor> mask = inputs[0].keras_mask();
    for (size_t i = 1; mask && i < inputs.size(); ++i) {
      const std::optional<KerasTensor> next = inputs[i].keras_mask();
      mask = next ? std::optional(detail::symbolic_logical_or(*mask, *next)) : std::nullopt;
    }
    output.set_keras_mask(mask);
  }
  return {output};
}

std::vector<ValuePtr> Merge::call_node(const ValueArguments& arguments,
                                       const RunContext& /*context*/) const {
  const std::vector<ValuePtr> inputs = merge_inputs(arguments, error_source());
  const std::vector<Tensor> tensors = detail::float_inputs(inputs, error_source());
  const std::vector<std::optional<Mask>> masks = input_masks(inputs);
  std::optional<Mask> mask = compute_mask(tensors, masks);
  return {make_value(call(tensors, masks), std::move(mask))};
}

OperationForward Merge::forward_node(const ValueArguments& arguments,
                                     const RunContext& /*context*/) const {
  const std::vector<ValuePtr> inputs = merge_inputs(arguments, error_source());
  const std::vector<Tensor> tensors = detail::float_inputs(inputs, error_source());
  const std::vector<std::optional<Mask>> masks = input_masks(inputs);
  std::optional<Mask> mask = compute_mask(tensors, masks);
  LayerForward saved = forward(tensors, masks);
  return {{make_value(saved.output, std::move(mask))}, detail::save_call(*this, std::move(saved))};
}

ValueGradients Merge::backward_node(const ValueArguments& arguments,
                                    const BackwardPass& pass) const {
  const LayerForward& saved = detail::saved_call<LayerForward>(*this, pass.forward, error_source());
  const Tensor* d_output = detail::output_gradient(pass.d_outputs, 0);
  if (d_output == nullptr) return {};
  const std::vector<ValuePtr> inputs = merge_inputs(arguments, error_source());
  std::vector<Tensor> grads = backward(saved, *d_output, pass.weight_gradients);
  ValueGradients result;
  for (size_t i = 0; i < inputs.size(); ++i) result.emplace_back(inputs[i], std::move(grads[i]));
  return result;
}

}  // namespace kattn
