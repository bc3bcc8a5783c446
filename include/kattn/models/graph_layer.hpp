// A layer made of other layers, as a Keras custom layer whose call() calls the layers it holds
// in its attributes (keras.io's TransformerBlock: self.att, self.ffn, self.layernorm1, ...).
// A subclass writes that call once, on symbolic tensors, in build_graph(); GraphLayer runs it
// as a graph (the machinery of Model: Keras masks on the values, training calls, backward
// passes), and owns the sublayers' weights under the groups Keras saves them in (the attribute
// that holds each one: "att/query_dense/vars/0", "ffn/layers/dense/vars/1").
//
//   class TransformerBlock : public kattn::GraphLayer {
//     Graph build_graph(const std::vector<kattn::KerasTensor>& inputs) override {
//       auto att = kattn::make_layer<kattn::MultiHeadAttention>({...});
//       kattn::KerasTensor x = inputs[0];
//       kattn::KerasTensor out1 = layernorm1(x + att(x, x));
//       ...
//       return {.outputs = {out}, .sublayers = {{"att", att.layer()}, ...}};
//     }
//   };
//
// The call takes `inputs` (one tensor, or a list) and passes their Keras masks into the graph,
// as Keras's eager call passes the masks the tensors carry; its outputs carry the masks the
// graph's outputs carry at run time (symbolically none: Keras records no mask for them).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

class GraphLayer : public Layer {
 public:
  struct Graph {
    std::vector<KerasTensor> outputs;  // computed from build_graph's inputs
    // The layers of the graph, each with the path of its group under this layer's (the
    // attribute that holds it), in the order of Keras's `layer.weights` (the attributes' order
    // in __init__). Keras writes a group for every layer attribute, with or without weights.
    std::vector<std::pair<std::string, std::shared_ptr<Layer>>> sublayers;
    // Further groups Keras writes, {path, the `name` it gives them}: the vars of a container
    // attribute (a keras.Sequential's {"ffn/vars", "sequential"}).
    std::vector<std::pair<std::string, std::string>> groups;
  };

  const std::vector<std::string>& call_parameters() const override;
  // Builds the graph on the first call: one kattn::Input per tensor, shaped as the call's.
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext& context) const override;
  OperationForward forward_node(const ValueArguments& arguments,
                                const RunContext& context) const override;
  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override;
  // The sublayers' layouts, each under its path, and the graph's further groups.
  WeightLayout weight_layout() const override;
  // Keeps the names a file gives the groups (Keras's global layer counters name them), to
  // write them back.
  void adopt_group_names(const std::map<std::string, std::string>& names) override;

 protected:
  GraphLayer(std::string class_name, LayerArgs args);
  // A layer running `graph` as it is, with its sublayers' paths (a model used as a layer).
  GraphLayer(std::string class_name, LayerArgs args, std::shared_ptr<Model> graph, Graph layout);
  // The computation on `inputs`, symbolic tensors of the first call's shapes and dtypes (the
  // batch axis None); not called for a layer made with its graph.
  virtual Graph build_graph(const std::vector<KerasTensor>& inputs) = 0;
  const Model& graph() const { return *graph_; }

 private:
  struct Saved;
  // Builds the graph for inputs of these shapes and dtypes, once.
  void build_from(const std::vector<KerasTensor>& inputs);
  // Takes `graph` and `layout`'s sublayers and groups; the sublayers' weights become this
  // layer's.
  void install(std::shared_ptr<Model> graph, Graph layout);
  // The call's tensors, as copies: a layer of the graph may clear their masks.
  std::vector<ValuePtr> inputs_of(const ValueArguments& arguments) const;
  // Hands this layer's weights to the sublayers when they changed since the last call.
  void sync_sublayers() const;
  std::vector<ValuePtr> outputs_of(const std::vector<ValuePtr>& graph_outputs) const;

  std::shared_ptr<Model> graph_;
  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> sublayers_;
  std::vector<std::pair<std::string, std::string>> groups_;
  std::map<std::string, std::string> adopted_names_;
};

}  // namespace kattn
