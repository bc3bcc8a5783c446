// keras.layers.BatchNormalization, exact to Keras 3.16 (numpy backend arithmetic).
//
//   inputs (..., C at `axis`, ...); gamma, beta, moving_mean, moving_variance (C,)
//   inference (and a layer that is not trainable):
//     y = x * inv + (beta - moving_mean * inv), inv = gamma / sqrt(moving_variance + epsilon)
//   training: the same with the batch's mean and variance over every axis but `axis`
//     (E[x^2] - E[x]^2; with a mask (the inputs' shape less the last axis), the masked
//     moments sum(m x) / (sum(m) + 1e-7) and sum(m (x - mean)^2) / (sum(m) + 1e-7)), and the
//     moving statistics become moving * momentum + batch * (1 - momentum)
//
// Weights in Keras's order: gamma (scale=True), beta (center=True), then the non-trainable
// moving_mean and moving_variance. The output keeps the input's Keras mask. renorm and
// synchronized are refused (NotSupportedError): Keras's numpy backend runs neither.
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
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class BatchNormalization : public UnaryLayer {
 public:
  struct Args {
    int64_t axis = -1;
    double momentum = 0.99;
    double epsilon = 1e-3;
    bool center = true;
    bool scale = true;
    WeightArgs beta = {};                                                   // zeros by default
    WeightArgs gamma = {};                                                  // ones by default
    std::optional<Initializer> moving_mean_initializer = std::nullopt;      // zeros
    std::optional<Initializer> moving_variance_initializer = std::nullopt;  // ones
    // Batch renormalization's settings, unused (renorm is refused) and kept for the config.
    Config renorm_clipping = nullptr;
    double renorm_momentum = 0.99;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  BatchNormalization();
  explicit BatchNormalization(Args args);
  static std::unique_ptr<BatchNormalization> from_config(const Config& config);

  // Creates the weights for inputs of this shape (known size on `axis`); ValueError for an
  // axis outside the inputs' rank.
  void build(const Shape& input_shape) override;
  Shape compute_output_shape(const Shape& input_shape) const override;

  // Inference: the moving statistics. `mask` is checked (one axis less than the inputs) but not
  // read.
  Tensor call(const Tensor& inputs) const override { return call_masked(inputs, std::nullopt); }
  Tensor call_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  // A training call: the batch's statistics (masked ones with a mask), the moving statistics
  // updated (Keras's assign inside call), and what backward() needs. An inference call when the
  // layer is not trainable, as in Keras.
  LayerForward forward(const Tensor& inputs) const override {
    return forward_masked(inputs, std::nullopt);
  }
  LayerForward forward_masked(const Tensor& inputs, const std::optional<Mask>& mask) const override;
  // The inference call kept for backward() (a model trained with the layer at inference).
  LayerForward forward_inference(const Tensor& inputs, const std::optional<Mask>& mask) const;
  // Backpropagates through either kind of call, into gamma's and beta's gradients (the moving
  // statistics get none).
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;
  bool call_takes_mask() const override { return true; }

  // The node: call(inputs, training, mask); `training` (the node's, else the run's) picks the
  // batch statistics.
  const std::vector<std::string>& call_parameters() const override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;

  int64_t axis() const { return axis_; }
  Config get_config() const override;

 private:
  struct Statistics;
  int64_t resolved_axis(int64_t rank) const;
  void build_weights(const Shape& input_shape);
  // Builds on the first call; checks the inputs and the mask.
  int64_t prepare(const Tensor& inputs, const std::optional<Mask>& mask) const;
  const Tensor* weight_named(const std::string& name) const;
  LayerForward normalize(const Tensor& inputs, int64_t axis, Statistics statistics) const;

  int64_t axis_;
  double momentum_;
  double epsilon_;
  bool center_;
  bool scale_;
  WeightArgs beta_;
  WeightArgs gamma_;
  Initializer moving_mean_initializer_;
  Initializer moving_variance_initializer_;
  Config renorm_clipping_;
  double renorm_momentum_;
};

}  // namespace kattn
