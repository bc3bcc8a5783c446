// The callables of a model graph and the record of one call (Keras's Operation and Node).
//
// An Operation is either a layer (kattn::Layer is one, as keras.layers.Layer is an Operation:
// Dense, MultiHeadAttention, ...) or a keras.ops function that Keras recorded in the graph
// (NotEqual for Embedding's mask, LogicalOr, ...). Calling it on symbolic tensors
// (call_symbolic) builds it, records a Node and gives symbolic outputs; a Model then runs the
// recorded nodes on concrete tensors through call_node (forward_node and backward_node when
// training).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/core/node_arguments.hpp"
#include "kattn/core/value.hpp"

namespace kattn {

class Layer;

// A call's arguments bound to the operation's call parameters: symbolic ones when a graph is
// built, concrete ones when it runs.
using SymbolicArguments = BoundArguments<KerasTensor>;
using ValueArguments = BoundArguments<ValuePtr>;

// The gradient of each output of a call, nullopt where none reaches it.
using OutputGradients = std::vector<std::optional<Tensor>>;

struct RunContext {
  bool training = false;
};

// A call made for training: the outputs call() gives, and what the operation's backward()
// reads (opaque to everyone else).
struct OperationForward {
  std::vector<ValuePtr> outputs;
  std::shared_ptr<const void> saved;
};

// What backward_node() is given besides the call's arguments.
struct BackwardPass {
  const OperationForward& forward;        // what forward_node() returned for the same arguments
  const OutputGradients& d_outputs;       // one per output, nullopt where none reaches it
  std::vector<Tensor>& weight_gradients;  // the layer's zero_gradients() layout, added into
};

// Gradients with respect to the values a call was given, keyed by the value objects
// themselves (a value passed twice, as in self-attention, may appear twice: the entries add).
using ValueGradients = std::vector<std::pair<ValuePtr, Tensor>>;

// Where a layer's weights live in a Keras weights file, relative to the layer's group
// (layers/<class>_N): one dataset path per weight, in the layer's weights() order, and every
// group Keras writes for it with its `name` attribute.
struct WeightLayout {
  std::vector<std::string> datasets;                        // "vars/0", "query_dense/vars/1", ...
  std::vector<std::pair<std::string, std::string>> groups;  // {"vars", "hidden"}, ...
};

class Operation {
 public:
  // `class_name` as config.json serializes it; `name` unique within a model.
  Operation(std::string class_name, std::string name)
      : class_name_(std::move(class_name)), name_(std::move(name)) {}
  virtual ~Operation() = default;
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;
  Operation(Operation&&) = default;
  Operation& operator=(Operation&&) = default;

  const std::string& class_name() const { return class_name_; }
  const std::string& name() const { return name_; }
  // config.json's `module`: "keras.layers" for layers, "keras.src.ops.numpy" for numpy ops.
  virtual std::string module() const = 0;
  // config.json's `registered_name`: null for Keras's own layers, the class name for keras.ops
  // functions, "package>ClassName" for a class registered with
  // keras.saving.register_keras_serializable (kattn/models/custom_layers.hpp).
  virtual Config registered_name() const;
  virtual Config get_config() const = 0;
  // config.json's `build_config` ({"input_shape": ...}), or null when Keras writes none.
  virtual Config build_config() const { return nullptr; }
  // config.json's `compile_config` of the entry: a model used as a layer has one ({} when never
  // compiled); null for everything else, which has none.
  virtual Config compile_config() const { return nullptr; }

  // The parameter names of Keras's `call`, in order: how a node's args and kwargs bind.
  virtual const std::vector<std::string>& call_parameters() const = 0;

  // The outputs of a call on symbolic tensors (shapes, dtypes and symbolic Keras masks; no
  // history yet). Builds the layer on its first call, as Keras does.
  virtual std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) = 0;

  // The outputs of a call on concrete tensors, with the Keras masks they carry.
  virtual std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                          const RunContext& context) const = 0;

  // The call for training: outputs as call_node() gives them, plus what backward_node() needs.
  // By default call_node() with nothing saved, for operations no gradient passes through (the mask
  // functions: NotEqual, LogicalOr, ...).
  virtual OperationForward forward_node(const ValueArguments& arguments,
                                        const RunContext& context) const;

  // Backpropagates pass.d_outputs through the call that gave pass.forward (made with the same
  // arguments). Returns the gradients of the float32 inputs that get one, and adds the layer's
  // weight gradients into pass.weight_gradients (empty without a layer). NotSupportedError
  // naming the class by default.
  virtual ValueGradients backward_node(const ValueArguments& arguments,
                                       const BackwardPass& pass) const;

  // Where the weights go in model.weights.h5 (layers only): by default `vars/0`, `vars/1`, ...
  // in a `vars` group named after the layer.
  virtual WeightLayout weight_layout() const;
  // Takes the `name` attributes a weights file gives the groups of weight_layout() (paths
  // relative to the layer's group) where Keras names them by a process-wide counter.
  virtual void adopt_group_names(const std::map<std::string, std::string>& /*names*/) {}

  // Keras's behaviour where its releases differ: an operation whose rules changed between
  // releases follows `version` from now on (a model loaded from a file gives it the release
  // that saved the file). Nothing by default.
  virtual void follow_keras_version(const KerasVersion& /*version*/) {}

  // Whether a call gets the Keras mask of its first tensor argument as `mask` also when other
  // arguments come with it: tf.keras 2's recurrent layers, called with initial_state, mask
  // their sequences (Keras 3 populates `mask` for calls on one tensor only).
  virtual bool masks_first_argument() const { return false; }

  // The layer, when this operation is a kattn::Layer (nullptr for InputLayer and keras.ops
  // functions).
  virtual Layer* layer() { return nullptr; }
  const Layer* layer() const { return const_cast<Operation*>(this)->layer(); }
  // True for the operations Keras lists in `model.layers` (layers, InputLayer included), false
  // for keras.ops functions.
  virtual bool is_layer() const { return layer() != nullptr; }
  // True for InputLayer, whose node only stands for a model input.
  virtual bool is_input() const { return false; }

  // Numbers the calls of this operation: 0 for the first node, 1 for the next, ...
  int64_t next_call_index() { return calls_++; }

 private:
  std::string class_name_;
  std::string name_;
  int64_t calls_ = 0;
};

// One call of an operation on symbolic arguments.
struct Node {
  std::shared_ptr<Operation> operation;
  int64_t call_index = 0;  // the operation's call number (Keras's node index before saving)
  NodeArguments<KerasTensor> arguments;
  std::vector<Shape> output_shapes;  // -1 for None
  std::vector<DType> output_dtypes;

  // The input tensors in Keras's order (tree.flatten of args, then kwargs by name).
  std::vector<KerasTensor> input_tensors() const { return flatten_tensors(arguments); }
};

// Keras's Operation.__call__ on KerasTensors: binds the arguments to the operation's call
// parameters, computes the output spec (building the layer), records the Node and returns the
// outputs with their history. As Keras's Layer.__call__ does, a layer whose call takes `mask`
// and that is called on one tensor with no `mask` keyword gets that tensor's symbolic Keras
// mask recorded as its `mask` keyword (null when it has none).
std::vector<KerasTensor> call_symbolic(const std::shared_ptr<Operation>& operation,
                                       NodeArguments<KerasTensor> arguments);

}  // namespace kattn
