// keras.layers.Embedding, exact to Keras 3.16.
//
//   ids (...) int32 of any shape, embeddings (input_dim, output_dim)
//   output (..., output_dim): output[i..., :] = embeddings[ids[i...], :]
//   mask (...) = ids != 0 with mask_zero, else none
//
// With mask_zero, row 0 is still looked up: padded positions are not zero vectors, only the
// mask marks them. Ids outside [0, input_dim) raise ValueError naming the id (Keras's numpy
// backend raises too; jax would clip). kattn does not implement LoRA or quantization:
// from_config accepts lora_rank, lora_alpha and quantization_config only as null.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/initializers.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

class Embedding : public Layer {
 public:
  // Keras's constructor arguments, with Keras's defaults. input_dim and output_dim are
  // required: their 0 defaults are refused.
  struct Args {
    int64_t input_dim = 0;   // vocabulary size > 0
    int64_t output_dim = 0;  // embedding size > 0
    // Keras's embeddings_* arguments (no initializer: Keras's "uniform").
    WeightArgs embeddings = {};
    Config activity_regularizer = nullptr;  // a Keras config; Model::fit penalises the outputs
    bool mask_zero = false;
    // Initial embeddings (input_dim, output_dim): the layer is built at construction with
    // them, as Keras's `weights` argument does. Not serialised, as in Keras.
    std::optional<Tensor> weights = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit Embedding(Args args);
  // Keras's from_config: the keys of get_config() (plus lora_rank and lora_alpha); unknown keys
  // raise ValueError.
  static std::unique_ptr<Embedding> from_config(const Config& config);

  // Creates embeddings (input_dim, output_dim); the input shape is not needed (Keras's
  // build(input_shape=None)). Done by the first call when not done; a no-op once built.
  void build(const Shape& input_shape = {});
  // (...) -> (..., output_dim); -1 dimensions pass through.
  Shape compute_output_shape(const Shape& input_shape) const;
  // Const and safe to call from several threads at once (the first call builds under a lock).
  Tensor call(const Int32Tensor& ids) const;
  // A training call: call() that also keeps the ids for backward().
  LayerForward forward(const Int32Tensor& ids) const;
  // Backpropagates d_output (..., output_dim) through the forward() call that gave `forward`:
  // adds d_embeddings[ids[i...], :] += d_output[i..., :] into weight_gradients[0]. The ids get
  // no gradient, and mask_zero changes nothing (row 0 is looked up, so it gets its share).
  void backward(const LayerForward& forward, const Tensor& d_output,
                std::vector<Tensor>& weight_gradients) const;
  // Keras's compute_mask: ids != 0 (same shape as ids) with mask_zero, else none.
  std::optional<Mask> compute_mask(const Int32Tensor& ids) const;
  // The same for float ids, compared before the cast: 0.5 is a real step, of id 0.
  std::optional<Mask> compute_mask(const Tensor& ids) const;

  // Embedding.call's ops.cast(inputs, "int32") of ids that are not integers: truncated toward
  // zero, as numpy's and jax's astype do (3.7 -> 3, -0.5 -> 0). ValueError naming the value for
  // NaN, infinities and values beyond int32.
  Int32Tensor cast_ids(const Tensor& ids) const;

  // The graph node: ids in (int32, or float cast as call() casts them, the mask compared
  // before the cast), features out; with mask_zero the output carries ids != 0 (recorded as
  // Keras records it, a NotEqual node). The ids get no gradient.
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }
  bool mask_zero() const { return mask_zero_; }

  Config get_config() const override;

 private:
  void build_weights();

  int64_t input_dim_;
  int64_t output_dim_;
  WeightArgs embeddings_;
  Config activity_regularizer_;
  bool mask_zero_;
};

}  // namespace kattn
