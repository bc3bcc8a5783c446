// The backward pass of a functional model: the nodes of a training run in reverse order, each
// given the gradients of its outputs and adding those of its inputs, keyed by value object as
// the operations return them (kattn/core/operation.hpp: ValueGradients).
#include "models/model_backward.hpp"

#include <map>

#include "kattn/core/error.hpp"
#include "kattn/core/layer.hpp"

namespace kattn::detail {

namespace {

void add_gradient(std::map<const ModelValue*, Tensor>& gradients, const ModelValue* value,
                  const Tensor& gradient) {
  const auto [it, inserted] = gradients.try_emplace(value, gradient);
  if (inserted) return;
  if (it->second.shape() != gradient.shape()) {
    throw Error("gradient of shape " + shape_to_string(gradient.shape()) +
                " does not fit its value of gradient shape " + shape_to_string(it->second.shape()));
  }
  // Copy on first accumulation: the tensor may be shared with whoever returned it.
  Tensor sum = it->second.clone();
  const Tensor part = gradient.contiguous();
  float* s = sum.data();
  for (int64_t i = 0; i < sum.size(); ++i) s[i] += part.data()[i];
  it->second = std::move(sum);
}

}  // namespace

std::map<const ModelValue*, Tensor> backward_through(
    const std::vector<NodeRun>& runs,
    const std::vector<std::pair<ValuePtr, Tensor>>& output_gradients,
    std::map<const Layer*, std::vector<Tensor>>& weight_gradients) {
  std::map<const ModelValue*, Tensor> gradients;
  for (const auto& [value, gradient] : output_gradients)
    add_gradient(gradients, value.get(), gradient);

  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    OutputGradients d_outputs;
    bool any = false;
    for (const ValuePtr& output : run->forward.outputs) {
      const auto found = gradients.find(output.get());
      if (found == gradients.end()) {
        d_outputs.emplace_back(std::nullopt);
        continue;
      }
      Tensor d = std::move(found->second);
      gradients.erase(found);
      d_outputs.emplace_back(std::move(d));
      any = true;
    }
    if (!any) continue;
    const Operation& operation = *run->node->operation;
    static std::vector<Tensor> no_weights;
    std::vector<Tensor>* buffers = &no_weights;
    if (const Layer* layer = operation.layer(); layer != nullptr && !layer->weights().empty()) {
      auto [it, inserted] = weight_gradients.try_emplace(layer);
      if (inserted) it->second = layer->zero_gradients();
      buffers = &it->second;
    }
    const ValueGradients d_inputs =
        operation.backward_node(*run->bound, {run->forward, d_outputs, *buffers});
    for (const auto& [input, gradient] : d_inputs) add_gradient(gradients, input.get(), gradient);
  }
  return gradients;
}

}  // namespace kattn::detail
