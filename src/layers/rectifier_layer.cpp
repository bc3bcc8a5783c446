// The base of keras.layers.ReLU, LeakyReLU and ELU.
#include "kattn/layers/rectifier_layer.hpp"

#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"

namespace kattn {

namespace {

struct RectifierSaved : detail::SavedForBackward {
  Tensor inputs;
};

}  // namespace

RectifierLayer::RectifierLayer(std::string class_name, LayerArgs args, Rectifier rectifier)
    : UnaryLayer(std::move(class_name), std::move(args), MaskRule::kPassThrough,
                 BuildRecord::kNotRecorded),
      rectifier_(rectifier) {
  build_once([] {});  // __init__: self._build_at_init()
}

Tensor RectifierLayer::call(const Tensor& inputs) const { return rectifier_(inputs); }

LayerForward RectifierLayer::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<RectifierSaved>();
  saved->layer = this;
  saved->inputs = inputs;
  return {rectifier_(inputs), std::move(saved)};
}

Tensor RectifierLayer::backward(const LayerForward& forward, const Tensor& d_output,
                                std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<RectifierSaved>(*this, forward, d_output, weight_gradients);
  return rectifier_.backward(saved.inputs, d_output);
}

}  // namespace kattn
