// The training pair, transpose and padding that Keras's reshaping layers share.
#include "kattn/layers/reshaping_layer.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

struct ReshapingSaved : detail::SavedForBackward {
  Shape input_shape;
};

}  // namespace

ReshapingLayer::ReshapingLayer(std::string class_name, LayerArgs args, BuildRecord build_record)
    : UnaryLayer(std::move(class_name), std::move(args), MaskRule::kDrop, build_record) {
  if (build_record == BuildRecord::kNotRecorded) build_once([] {});
}

void ReshapingLayer::build(const Shape& /*input_shape*/) {
  build_once([] {});
}

LayerForward ReshapingLayer::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<ReshapingSaved>();
  saved->layer = this;
  saved->input_shape = inputs.shape();
  return {call(inputs), std::move(saved)};
}

Tensor ReshapingLayer::backward(const LayerForward& forward, const Tensor& d_output,
                                std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<ReshapingSaved>(*this, forward, d_output, weight_gradients);
  return gradient(d_output.contiguous(), saved.input_shape);
}

void ReshapingLayer::check_rank(const Shape& input_shape, size_t ndim) const {
  if (input_shape.size() == ndim) return;
  throw_value_error(
      error_source(), "Input 0 is incompatible with the layer", "ndim=" + std::to_string(ndim),
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + detail::keras_shape(input_shape));
}

Tensor ReshapingLayer::transpose(const Tensor& x, const std::vector<int64_t>& axes) {
  // Swaps of two axes at a time, each a view: position i gets axis axes[i].
  Tensor view = x;
  std::vector<int64_t> order(axes.size());  // order[i]: the input axis now at position i
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t from = i;
    while (order[from] != axes[i]) ++from;
    if (from == i) continue;
    view = view.transpose(static_cast<int64_t>(i), static_cast<int64_t>(from));
    std::swap(order[i], order[from]);
  }
  return view.contiguous();
}

Tensor ReshapingLayer::pad_axis(const Tensor& x, int64_t axis, int64_t before, int64_t after) {
  const Tensor in = x.contiguous();
  Shape shape = in.shape();
  const auto at = static_cast<size_t>(axis);
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < at; ++i) outer *= shape[i];
  for (size_t i = at + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t length = shape[at];
  shape[at] = before + length + after;
  Tensor output(shape);  // zeros
  for (int64_t o = 0; o < outer; ++o) {
    std::copy_n(in.data() + o * length * inner, length * inner,
                output.data() + (o * shape[at] + before) * inner);
  }
  return output;
}

std::vector<int64_t> ReshapingLayer::inverse_axes(const std::vector<int64_t>& axes) {
  std::vector<int64_t> inverse(axes.size());
  for (size_t i = 0; i < axes.size(); ++i)
    inverse[static_cast<size_t>(axes[i])] = static_cast<int64_t>(i);
  return inverse;
}

}  // namespace kattn
