// What the companion layers' forward() / backward() pairs share: the check that a LayerForward
// came from the layer at hand, the activation Dense, EinsumDense and Conv1D apply last, and the
// backward node of a layer whose one float32 `inputs` gets one gradient.
#pragma once

#include "core/node_inputs.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/ops/activations.hpp"

namespace kattn::detail {

// ValueError: `forward` holds no state of this layer (`has_saved`: it holds another's).
[[noreturn]] void throw_foreign_forward(ErrorSource source, bool has_saved);

// ValueError unless d_output has `shape`, the shape of the forward's output.
void check_d_output(ErrorSource source, const Tensor& d_output, const Shape& shape);

// The state `layer`'s forward() kept in `forward`, after the checks every backward() starts
// with: ValueError when another layer (or nothing) made it, when d_output is not shaped as the
// forward's output, or when weight_gradients does not match the layer's weights.
template <typename Saved>
const Saved& saved_for_backward(const Layer& layer, const LayerForward& forward,
                                const Tensor& d_output,
                                const std::vector<Tensor>& weight_gradients) {
  const ErrorSource source{layer.class_name(), layer.name()};
  const auto* saved = dynamic_cast<const Saved*>(forward.saved.get());
  if (saved == nullptr || saved->layer != &layer) {
    throw_foreign_forward(source, forward.saved != nullptr);
  }
  check_d_output(source, d_output, forward.output.shape());
  layer.check_gradient_buffers(weight_gradients);
  return *saved;
}

// A layer's output after its activation, with what the activation's backward reads.
struct Activated {
  Tensor output;  // activation(linear)
  Tensor linear;  // the pre-activation values, kept only when backward_reads_inputs()
};

// A training call's last step: applies `activation` to `linear` in place.
Activated activate(const ActivationFunction& activation, Tensor linear);
// The backward of activate(): d of the pre-activation values for d_output (d_output itself
// for linear, which is not copied).
Tensor activation_backward(const ActivationFunction& activation, const Activated& activated,
                           const Tensor& d_output);

// backward_node() of a layer whose forward_node() saved a LayerForward and whose backward()
// gives the gradient of its one float32 `inputs`.
template <typename L>
ValueGradients unary_backward(const L& layer, const ValueArguments& arguments,
                              const BackwardPass& pass) {
  const LayerForward& call =
      saved_call<LayerForward>(layer, pass.forward, {layer.class_name(), layer.name()});
  const Tensor* d_output = output_gradient(pass.d_outputs, 0);
  if (d_output == nullptr) return {};
  return {{arguments.tensor("inputs"), layer.backward(call, *d_output, pass.weight_gradients)}};
}

}  // namespace kattn::detail
