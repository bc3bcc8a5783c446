// Keras functional models: a graph of layers from symbolic inputs to symbolic outputs, built in
// C++ as the Keras documentation writes it, or loaded from a `.keras` file Keras saved.
//
//   auto ids = kattn::Input({.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "tokens"});
//   auto embedding = kattn::make_layer<kattn::Embedding>({.input_dim = 1000, .output_dim = 64});
//   kattn::KerasTensor x = embedding(ids);
//   ...
//   kattn::Model model({ids}, {y}, "classifier");
//   std::vector<kattn::AnyTensor> outputs = model.predict({token_ids});
//
// Running follows Keras's Functional model: nodes run in Keras's order (decreasing depth, as
// keras.src.ops.function.map_graph sorts them) and Keras masks travel on the tensors between
// them, exactly as in Keras (Embedding(mask_zero) and Masking create them, MultiHeadAttention
// clears them on its inputs, pooling and attention consume them).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/keras_version.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/operation.hpp"
#include "kattn/core/value.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/weight_store.hpp"
#include "kattn/models/training.hpp"

namespace kattn {

namespace detail {
struct NodeRun;
struct SequentialModel;
struct TrainingSetup;
}  // namespace detail

struct PredictArgs {
  bool training = false;  // Keras's `training` call argument: dropout is active when true
};

class Model {
 public:
  // keras.Model(inputs=[...], outputs=[...], name=...); an empty name is Keras's auto name
  // ("functional", "functional_1", ...). ValueError when an output does not depend on the inputs
  // only, or when two operations share a name.
  Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name = "");
  // keras.Model(x, y): one bare input and output (config.json records them as flat triples).
  Model(const KerasTensor& input, const KerasTensor& output, std::string name = "");
  // keras.Model(x, [y, ...]): one bare input, a list of outputs.
  Model(const KerasTensor& input, std::vector<KerasTensor> outputs, std::string name = "");

  // A model from a config.json object ({"class_name": "Functional", "config": {...}, ...}), as
  // Keras's functional_from_config rebuilds it: every layer from its config, then every node
  // called on the tensors it names; or a Sequential's ({"class_name": "Sequential", ...}), its
  // layers called one after the other (kattn/models/sequential.hpp). Classes kattn does not support
  // are refused by name (NotSupportedError listing the supported ones). Weights are freshly
  // initialised. The layers follow `keras_version`'s behaviour where Keras releases differ (the
  // release that saved the file: load_model reads it from metadata.json).
  static Model from_config(const Config& config, const KerasVersion& keras_version = kKerasVersion);
  // The config.json object Keras writes for this model.
  Config to_config() const;
  // The Keras release whose behaviour the model follows (from_config's); save_model writes it
  // into metadata.json, so that a saved model computes the same when loaded again.
  const KerasVersion& keras_version() const { return keras_version_; }

  const std::string& name() const { return name_; }
  // Whether the model is a keras.Sequential (kattn::Sequential, or a Sequential's config): its
  // config.json, weights file and summary are the Sequential's.
  bool is_sequential() const { return sequential_; }
  // config.json's `trainable` of the model.
  bool trainable() const { return trainable_; }
  const std::vector<KerasTensor>& inputs() const { return inputs_; }
  const std::vector<KerasTensor>& outputs() const { return outputs_; }
  // The InputLayer name of each input, in order.
  std::vector<std::string> input_names() const;
  // The name of the operation producing each output, in order (Keras's output_names).
  std::vector<std::string> output_names() const;

  // Keras's model.operations: every layer and keras.ops function, in Keras's order (the order
  // of config.json's `layers`).
  const std::vector<std::shared_ptr<Operation>>& operations() const { return operations_; }
  // The layer of that name with weights; ValueError naming the known layers otherwise.
  Layer& get_layer(const std::string& name) const;

  // Runs the model on one array per input, in input order (float32 Tensor, Int32Tensor or
  // Mask as the input's dtype says); returns one array per output. ValueError when the count,
  // dtype or shape of an input does not fit. Const, and safe from several threads at once.
  std::vector<AnyTensor> predict(const std::vector<AnyTensor>& inputs,
                                 const PredictArgs& args = {}) const;
  // The same, and the value (with its Keras mask) every node output had, for inspection:
  // results[node][tensor index], nodes in execution_order().
  struct Trace {
    std::vector<std::shared_ptr<Node>> nodes;
    std::vector<std::vector<ValuePtr>> outputs;
    std::vector<std::vector<std::optional<Mask>>> input_masks;   // as each node saw them
    std::vector<std::vector<std::optional<Mask>>> output_masks;  // right after each call
  };
  Trace trace(const std::vector<AnyTensor>& inputs, const PredictArgs& args = {}) const;

  // The attention scores of one call of an attention layer (an operation whose call takes
  // `return_attention_scores`: Attention, AdditiveAttention, MultiHeadAttention,
  // GroupQueryAttention), as that call returns them with return_attention_scores=True.
  struct AttentionScores {
    std::shared_ptr<Node> node;  // the call; node->operation is the layer
    // Attention, AdditiveAttention: (B, Tq, Tv). MultiHeadAttention, GroupQueryAttention:
    // (B, N, T, S) for rank-3 inputs (see multi_head_attention.hpp for other ranks).
    Tensor scores;
  };
  struct ScoredPrediction {
    std::vector<AnyTensor> outputs;                 // what predict() gives
    std::vector<AttentionScores> attention_scores;  // one per attention call, execution_order()
  };
  // predict() at inference, and the scores of every call of an attention layer in that run. A
  // call that does not return its scores is made once more on the same inputs and masks with
  // return_attention_scores=True, for its scores only: asking changes the code path Keras's
  // MultiHeadAttention takes, and with it the outputs of fully masked query rows, so the
  // outputs stay exactly predict()'s. Fully masked rows have scores too (zeros for the
  // projected layers, Keras's `score - 1e9` softmax for the dense ones).
  ScoredPrediction predict_with_attention_scores(const std::vector<AnyTensor>& inputs) const;

  // The nodes in the order they run (input nodes excluded).
  const std::vector<std::shared_ptr<Node>>& execution_order() const { return execution_order_; }
  // The node index config.json gives a node (its rank among its operation's nodes in this
  // model).
  int64_t saved_node_index(const Node& node) const;

  // The weights as Keras lays them out in model.weights.h5 (layers/<class>_N/vars/..., every
  // group with its `name` attribute).
  WeightStore weight_store() const;
  // Sets every weight from a weights file's content; FileError naming the dataset that is
  // missing or of the wrong shape, and naming datasets the model has no place for.
  void load_weights(const WeightStore& store);
  // A *.weights.h5 file, or a Keras 2 weights or model file (tf.keras 2's save_weights("x.h5")),
  // read layer by layer in order as Keras reads them (kattn/models/legacy_h5.hpp).
  void load_weights(const std::filesystem::path& path);
  void save_weights(const std::filesystem::path& path) const;

  // Keras's model.summary(): one row per layer with its class, output shape, parameter count
  // and the layers it is connected to, then the totals.
  std::string summary() const;
  // The number of weight values of all layers.
  int64_t count_params() const;

  // Keras's model.compile: the optimizer, loss and metrics of training. ValueError when the
  // optimizer or loss is missing or a metric is unknown. A model loaded from a file Keras saved
  // compiled is compiled already, its optimizer's state restored (see load_model).
  void compile(CompileArgs args);
  // Keras's compile_from_config: compile() from config.json's compile_config (optimizer, loss,
  // loss_weights, metrics, ...), then the optimizer built for the trainable weights and, for a
  // model loaded from a file, its state restored from the file's optimizer variables.
  // NotSupportedError naming an optimizer, loss or metric kattn does not have.
  void compile_from_config(const Config& compile_config);
  // Keras's get_compile_config(): what config.json's compile_config holds, the optimizer with
  // its current state; null for a model never compiled. A loaded file's compile_config that
  // kattn could not compile is given back as it was.
  Config get_compile_config() const;
  // The optimizer of compile(); nullptr before.
  std::shared_ptr<Optimizer> optimizer() const;

  // One optimizer step on one batch: x one array per input, y one float32 target per output
  // (batch first). Returns the loss (with regularization) and metrics of the batch, computed
  // before the step. ValueError before anything changes when the model is not compiled, an
  // input does not fit, or an operation on the gradient's path has no backward pass.
  Logs train_on_batch(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y);
  // Keras's model.fit: `epochs` passes over x and y in batches of batch_size.
  History fit(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y,
              const FitArgs& args = {});
  // Keras's model.evaluate: the loss and metrics over x and y at inference, in batches.
  Logs evaluate(const std::vector<AnyTensor>& x, const std::vector<Tensor>& y,
                int64_t batch_size = 32) const;

 private:
  void map_graph();
  // Runs the nodes; records every node's outputs in `trace` when it is not null, runs each
  // operation's forward() into `runs` (for backward) when that is not null, and adds the scores
  // of every attention call to `scores` when that is not null.
  std::vector<ValuePtr> run(const std::vector<AnyTensor>& inputs, const PredictArgs& args,
                            Trace* trace, std::vector<detail::NodeRun>* runs,
                            std::vector<AttentionScores>* scores = nullptr) const;
  // The same from values that may carry Keras masks (a GraphLayer's inputs).
  std::vector<ValuePtr> run_values(const std::vector<ValuePtr>& inputs, const PredictArgs& args,
                                   Trace* trace, std::vector<detail::NodeRun>* runs,
                                   std::vector<AttentionScores>* scores = nullptr) const;

  std::string name_;
  std::vector<KerasTensor> inputs_;
  std::vector<KerasTensor> outputs_;
  bool trainable_ = true;
  bool flat_inputs_ = false;  // keras.Model(x, ...) rather than keras.Model([x], ...)
  bool flat_outputs_ = false;
  bool sequential_ = false;
  std::vector<std::shared_ptr<Operation>> operations_;
  std::vector<std::shared_ptr<Node>> nodes_;            // every node of the model
  std::vector<std::shared_ptr<Node>> execution_order_;  // nodes_ that run, in Keras's order
  // The setup of compile(); for a loaded model not compiled yet, compiles it from the file's
  // compile_config (raising why that fails). ValueError when there is neither.
  detail::TrainingSetup& training_setup(const char* call);
  const detail::TrainingSetup& training_setup(const char* call) const;

  friend Model load_model(const KerasArchiveReader& archive);
  friend struct detail::SequentialModel;
  friend class GraphLayer;

  std::shared_ptr<detail::TrainingSetup> training_;  // set by compile()
  // A loaded file's compile_config that kattn could not compile (null otherwise), and its
  // optimizer variables until compile_from_config restores them: both written back unchanged
  // when the model is saved uncompiled.
  Config saved_compile_config_ = nullptr;
  WeightStore saved_optimizer_variables_;
  KerasVersion keras_version_ = kKerasVersion;
};

// Loads a .keras archive Keras saved: the model from config.json, its weights from
// model.weights.h5. FileError naming the member and dataset for malformed files,
// NotSupportedError naming unsupported classes. A model Keras saved compiled loads compiled, as
// in Keras: compile_from_config with the optimizer's state (iterations, learning rate, slots)
// restored, so that training resumes where Keras stopped. When the compile_config names an
// optimizer, loss or metric kattn does not have, the model still loads and predicts; training it
// raises that error.
//
// Loading is bounded by what config.json declares: the layers may create no more weight values
// than model.weights.h5 can hold, and model.weights.h5 may hold no more than those weights with
// three optimizer slots each (plus HDF5's structures); a file beyond either is refused before
// it is inflated. Loading takes about twice the weights' size in memory.
//
// A file that starts with the HDF5 signature is a Keras 2 `.h5` model (tf.keras 2's
// model.save("model.h5")), read by load_legacy_h5_model (kattn/models/legacy_h5.hpp).
Model load_model(const std::filesystem::path& path);
// The same from an archive opened with KerasArchiveReader (from bytes, or with other limits).
Model load_model(const KerasArchiveReader& archive);
// Writes the .keras archive Keras writes for this model (metadata.json, config.json,
// model.weights.h5), atomically; a compiled model with its compile_config and its optimizer's
// variables, so that Keras loads it compiled and resumes training from its state.
void save_model(const Model& model, const std::filesystem::path& path);

}  // namespace kattn
