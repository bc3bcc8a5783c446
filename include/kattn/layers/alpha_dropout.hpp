// keras.layers.AlphaDropout, exact to Keras 3.16's rule (not to its random numbers): dropout
// that keeps selu's mean and variance.
//
//   inference: output = inputs (the same tensor)
//   training, rate > 0: keep = uniform >= rate, drawn per noise element (noise_shape, -1
//   entries taking the input's size) and broadcast over the axes where noise_shape is 1;
//   alpha_p = -1.6732632423543772 * 1.0507009873554805,
//   a = ((1 - rate) * (1 + rate * alpha_p^2))^(-1/2), b = -a * alpha_p * rate,
//   output = a * (keep ? inputs : alpha_p) + b
//
// The output keeps the input's Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/noise_layer.hpp"

namespace kattn {

class AlphaDropout : public NoiseLayer {
 public:
  struct Args {
    double rate = 0.0;                                // in [0, 1]; required in Keras
    std::optional<Shape> noise_shape = std::nullopt;  // as Dropout's
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError (Keras's wording) for a rate outside [0, 1].
  explicit AlphaDropout(Args args);
  static std::unique_ptr<AlphaDropout> from_config(const Config& config);

  double rate() const { return rate_; }
  const std::optional<Shape>& noise_shape() const { return noise_shape_; }
  Config get_config() const override;

 protected:
  bool perturbs() const override { return rate_ > 0.0; }
  Tensor perturb(const Tensor& inputs, uint64_t key) const override;
  // d_inputs = keep ? a * d_output : 0.
  Tensor perturb_backward(const Tensor& d_output, uint64_t key) const override;

 private:
  // The keep mask of `key` over inputs of `shape`.
  Mask keep_mask(const Shape& shape, uint64_t key) const;

  double rate_;
  std::optional<Shape> noise_shape_;
};

}  // namespace kattn
