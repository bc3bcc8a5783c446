// Layers called on symbolic tensors, as the Keras documentation writes functional models:
//
//   auto cnn = kattn::make_layer<kattn::Conv1D>({.filters = 100, .kernel_size = {4},
//                                                .padding = "same", .name = "cnn"});
//   kattn::KerasTensor encoding = cnn(embeddings);            // layer(x)
//   kattn::KerasTensor attended = attention({encoding, values}); // layer([a, b])
//   kattn::KerasTensor y = mha(x, x, {{"use_causal_mask", true}}); // layer(q, v,
//   use_causal_mask=True)
//
// Each call records a node and builds the layer on its first call, as in Keras; the layer is
// shared by every model that uses it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/node_arguments.hpp"
#include "kattn/core/operation.hpp"

namespace kattn {

// One argument of a symbolic call: a tensor, a list of tensors, or a plain value.
class SymbolicArg {
 public:
  SymbolicArg(KerasTensor tensor) : arg_(NodeArg<KerasTensor>::tensor(std::move(tensor))) {}
  SymbolicArg(const std::vector<KerasTensor>& tensors);
  SymbolicArg(std::nullptr_t) {}
  SymbolicArg(bool value) : arg_(NodeArg<KerasTensor>::literal(value)) {}
  SymbolicArg(int value) : arg_(NodeArg<KerasTensor>::literal(value)) {}
  SymbolicArg(double value) : arg_(NodeArg<KerasTensor>::literal(value)) {}

  const NodeArg<KerasTensor>& arg() const { return arg_; }

 private:
  NodeArg<KerasTensor> arg_;
};

using SymbolicKwargs = std::map<std::string, SymbolicArg>;

// A layer of any class, called on symbolic tensors.
class SymbolicLayer {
 public:
  explicit SymbolicLayer(std::shared_ptr<Layer> layer);

  // layer(*args, **kwargs): every output.
  std::vector<KerasTensor> call(const std::vector<SymbolicArg>& args,
                                const SymbolicKwargs& kwargs = {}) const;
  // layer(x) and layer(q, v) for layers with one output; ValueError when it has several.
  KerasTensor operator()(const KerasTensor& x, const SymbolicKwargs& kwargs = {}) const;
  KerasTensor operator()(const KerasTensor& a, const KerasTensor& b,
                         const SymbolicKwargs& kwargs = {}) const;
  // layer([a, b, ...]).
  KerasTensor operator()(const std::vector<KerasTensor>& inputs,
                         const SymbolicKwargs& kwargs = {}) const;
  // The layer itself (a GraphLayer's sublayers, kattn/models/graph_layer.hpp).
  const std::shared_ptr<Layer>& layer() const { return layer_; }

 private:
  KerasTensor single(std::vector<KerasTensor> outputs) const;

  std::shared_ptr<Layer> layer_;
};

// A SymbolicLayer that also gives typed access to its layer (weights, config).
template <typename L>
class LayerRef : public SymbolicLayer {
 public:
  explicit LayerRef(std::shared_ptr<L> layer) : SymbolicLayer(layer), typed_(std::move(layer)) {}
  L* operator->() const { return typed_.get(); }
  L& operator*() const { return *typed_; }

 private:
  std::shared_ptr<L> typed_;
};

template <typename L>
LayerRef<L> make_layer(typename L::Args args = {}) {
  return LayerRef<L>(std::make_shared<L>(std::move(args)));
}

}  // namespace kattn
