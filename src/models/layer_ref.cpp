#include "kattn/models/layer_ref.hpp"

namespace kattn {

SymbolicArg::SymbolicArg(const std::vector<KerasTensor>& tensors) {
  NodeArg<KerasTensor>::List items;
  for (const KerasTensor& tensor : tensors) items.push_back(NodeArg<KerasTensor>::tensor(tensor));
  arg_ = NodeArg<KerasTensor>::list(std::move(items));
}

SymbolicLayer::SymbolicLayer(std::shared_ptr<Layer> layer) : layer_(std::move(layer)) {}

std::vector<KerasTensor> SymbolicLayer::call(const std::vector<SymbolicArg>& args,
                                             const SymbolicKwargs& kwargs) const {
  NodeArguments<KerasTensor> arguments;
  for (const SymbolicArg& arg : args) arguments.args.push_back(arg.arg());
  for (const auto& [name, arg] : kwargs) arguments.kwargs.emplace(name, arg.arg());
  return call_symbolic(layer_, std::move(arguments));
}

KerasTensor SymbolicLayer::single(std::vector<KerasTensor> outputs) const {
  if (outputs.size() != 1) {
    throw_value_error({layer_->class_name(), layer_->name()}, "this call has several outputs",
                      "call(...) to get them all", std::to_string(outputs.size()) + " outputs");
  }
  return outputs.front();
}

KerasTensor SymbolicLayer::operator()(const KerasTensor& x, const SymbolicKwargs& kwargs) const {
  return single(call({x}, kwargs));
}

KerasTensor SymbolicLayer::operator()(const KerasTensor& a, const KerasTensor& b,
                                      const SymbolicKwargs& kwargs) const {
  return single(call({a, b}, kwargs));
}

KerasTensor SymbolicLayer::operator()(const std::vector<KerasTensor>& inputs,
                                      const SymbolicKwargs& kwargs) const {
  return single(call({SymbolicArg(inputs)}, kwargs));
}

}  // namespace kattn
