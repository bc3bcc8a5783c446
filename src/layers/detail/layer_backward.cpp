#include "layers/detail/layer_backward.hpp"

#include <string>
#include <utility>

namespace kattn::detail {

void throw_foreign_forward(ErrorSource source, bool has_saved) {
  throw_value_error(
      source, "`forward` was not made by this layer's forward()",
      "the LayerForward this layer's forward() returned",
      std::string("forward from ") + (has_saved ? "another layer" : "no forward() call"));
}

void check_d_output(ErrorSource source, const Tensor& d_output, const Shape& shape) {
  if (d_output.shape() == shape) return;
  throw_value_error(source, "`d_output` must have the output's shape",
                    "shape " + shape_to_string(shape),
                    "d_output.shape=" + shape_to_string(d_output.shape()));
}

Activated activate(const ActivationFunction& activation, Tensor linear) {
  Activated activated;
  if (activation.backward_reads_inputs()) activated.linear = linear.clone();
  activation(linear);
  activated.output = std::move(linear);
  return activated;
}

Tensor activation_backward(const ActivationFunction& activation, const Activated& activated,
                           const Tensor& d_output) {
  if (activation.name() == "linear") return d_output;
  return activation.backward(activated.linear, activated.output, d_output);
}

}  // namespace kattn::detail
