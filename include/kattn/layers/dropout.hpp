// keras.layers.Dropout, exact to Keras 3.16's rule (not to its random numbers).
//
//   inputs (...) of any shape, noise (noise_shape, -1 entries taking the input's size)
//   inference: output = inputs (the same tensor)
//   training, rate > 0: output = keep ? inputs / (1 - rate) : 0, keep drawn per noise element
//     with probability 1 - rate and broadcast over the axes where noise_shape is 1
//
// rate 1 is allowed, as in Keras: every element is dropped and the output is 0 (Keras's
// where(mask, x / 0, 0) never picks the division).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

class Dropout : public Layer {
 public:
  // rate is required in Keras; its 0 default is a valid rate here.
  struct Args {
    double rate = 0.0;  // in [0, 1]
    // The shape of the keep mask, broadcast against the input: one entry per input axis, each
    // the input's length or 1; -1 (Keras's None) takes the input's length.
    std::optional<Shape> noise_shape = std::nullopt;
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "dropout";
    bool trainable = true;
  };

  explicit Dropout(Args args);
  static std::unique_ptr<Dropout> from_config(const Config& config);

  // No weights: built at construction, as in Keras, so build() is a no-op.
  void build(const Shape& /*input_shape*/) {}
  Shape compute_output_shape(const Shape& input_shape) const { return input_shape; }
  // Each training call with rate > 0 draws a fresh key from the layer's SeedGenerator. Const and
  // safe to call from several threads at once.
  Tensor call(const Tensor& inputs, bool training = false) const;
  // A training call: call() that also keeps the key it drew (the output is `inputs` itself at
  // inference or with rate 0, as call() returns it).
  LayerForward forward(const Tensor& inputs, bool training = false) const;
  // Backpropagates d_output (the inputs' shape) through the forward() call that gave
  // `forward`: the forward's keep mask applied to d_output, i.e. d_inputs = keep ? d_output /
  // (1 - rate) : 0 (a copy of d_output at inference or with rate 0). weight_gradients is
  // zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const;

  double rate() const { return rate_; }
  const std::optional<Shape>& noise_shape() const { return noise_shape_; }
  std::optional<int64_t> seed() const { return seed_generator_.seed(); }

  Config get_config() const override;

  // The graph node, call(inputs, training): at inference Keras returns the very input tensor
  // (mask included); in training a new one that keeps the input's mask.
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

 private:
  // noise_shape resolved against an input shape (ValueError when it does not broadcast).
  Shape resolved_noise_shape(const Shape& shape) const;
  // x with the keep mask of `key` over `noise` applied: kept values / (1 - rate), others 0.
  Tensor apply_keep_mask(const Tensor& x, uint64_t key, const Shape& noise) const;

  double rate_;
  std::optional<Shape> noise_shape_;
  SeedGenerator seed_generator_;
};

}  // namespace kattn
