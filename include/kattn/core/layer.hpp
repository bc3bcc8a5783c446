// The base of every kattn layer, shaped like keras.layers.Layer: the constructor validates,
// build() creates named weights, call() computes (const, safe from many threads at once),
// get_config() round-trips through the layer's from_config().
//
// A Layer is its own graph operation, as a Keras Layer is an Operation: each layer class also
// writes how a model node calls it (call_parameters, compute_output_spec, call_node,
// forward_node, backward_node; see core/operation.hpp), next to its typed call. Layers called
// on one float32 tensor get all of that from UnaryLayer (layers/unary_layer.hpp).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// Keras's add_weight(initializer=, regularizer=, constraint=) for one kind of weight, as a
// layer's constructor takes them (kernel_initializer, kernel_regularizer, kernel_constraint).
// The regularizer and the constraint stay Keras configs: a model whose regularizer kattn cannot
// train with still loads and runs, and Model::compile refuses it by name.
struct WeightArgs {
  std::optional<Initializer> initializer = std::nullopt;  // null: the layer's default for the kind
  Config regularizer = nullptr;  // a Keras regularizer config; Model::fit adds its penalty
  Config constraint = nullptr;   // a Keras constraint config; applied after each update
};

// One weight of a layer. `name` is relative to the layer ("scale", "query/kernel"); its Keras
// variable path is "<layer name>/<name>".
struct Variable {
  std::string name;
  Tensor value;
  bool trainable = true;
  Config regularizer = nullptr;  // as WeightArgs
  Config constraint = nullptr;
};

class Layer : public Operation {
 public:
  // `class_name` is the Keras class_name as serialized in config.json.
  Layer(std::string class_name, LayerArgs args);

  bool trainable() const { return args_.trainable; }
  bool built() const { return built_->load(std::memory_order_acquire); }

  // Keras's get_config(): the base keys (name, trainable, dtype) plus the layer's own.
  Config get_config() const override;
  // config.json's `module` of Keras's layers: "keras.layers".
  std::string module() const override;
  // The input shapes of the first build, as Keras records them (null until then, and for the
  // classes whose build Keras does not record).
  Config build_config() const override { return build_config_; }
  Layer* layer() override { return this; }
  // The layer's activity_regularizer config (null for none): what training penalises the
  // layer's outputs with. By default get_config()'s entry.
  virtual Config activity_regularizer() const;

  // The weights in Keras's order (the order of `layer.weights` and `set_weights`).
  const std::vector<Variable>& weights() const { return weights_; }
  // The Keras variable path of a weight: "<layer name>/<weight name>".
  std::string weight_path(const Variable& variable) const;

  // A weight by name ("scale", "query/kernel") or by Keras path ("luong/scale").
  const Tensor& weight(std::string_view name) const;
  // Replaces a weight's value with a copy of `value`; the shape must match the weight's.
  void set_weight(std::string_view name, const Tensor& value);

  // All weights, in order, as in Keras's get_weights() / set_weights(); get_weights returns
  // copies, as Keras returns numpy arrays.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& values);

  // The weights to change in place (an optimizer step, a constraint): drops what the layer
  // derived from them first, so the next call derives it again. Not while other threads call
  // the layer; the shapes must stay as they are.
  std::vector<Variable>& weights_for_update();

  // Zero-filled buffers for this layer's weight gradients, one per weight in weights() order
  // (backward passes add into them).
  std::vector<Tensor> zero_gradients() const;
  // ValueError unless `gradients` holds one contiguous tensor per weight, shaped like it.
  void check_gradient_buffers(const std::vector<Tensor>& gradients) const;

 protected:
  ErrorSource error_source() const { return {class_name(), name()}; }
  // Keras records the shapes of the first build only.
  void record_build_config(Config build_config);
  const LayerArgs& layer_args() const { return args_; }

  // Creates a weight of `shape` filled by `initializer` (Keras's add_weight); call it from
  // build(). ValueError before anything is allocated when a weight budget is in force and the
  // weight does not fit in it (loading a file, whose weights replace the initial values).
  void add_weight(std::string name, const Shape& shape, const Initializer& initializer,
                  bool trainable = true);
  // The same with a regularizer and a constraint; `args.initializer` must be set.
  void add_weight(std::string name, const Shape& shape, const WeightArgs& args);

  // Keras's variable.assign() from inside a call: a new value for the non-trainable weight at
  // `index` (BatchNormalization's moving statistics, in a training call), of its shape. Not
  // while other threads call the layer.
  void assign_state(size_t index, Tensor value) const;

  // Runs `build` once, under a lock, unless the layer is built already: Keras builds a layer on
  // its first call. After it returns the weights are complete and read without locking.
  void build_once(const std::function<void()>& build) const;

  // What the layer derives from its weights for its kernels (packed copies), made by `make` on
  // the first call that asks and kept until set_weight or set_weights changes a weight. Safe
  // from many threads at once; a caller's pointer stays valid after a change.
  std::shared_ptr<const void> derived_from_weights(
      const std::function<std::shared_ptr<const void>()>& make) const;

 private:
  Variable& find_weight(std::string_view name);
  void forget_derived();

  LayerArgs args_;
  Config build_config_ = nullptr;
  std::vector<Variable> weights_;
  std::unique_ptr<std::atomic<bool>> built_ = std::make_unique<std::atomic<bool>>(false);
  std::unique_ptr<std::mutex> build_mutex_ = std::make_unique<std::mutex>();
  std::unique_ptr<std::mutex> derived_mutex_ = std::make_unique<std::mutex>();
  mutable std::shared_ptr<const void> derived_;
};

}  // namespace kattn
