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
#include "kattn/core/tensor.hpp"
#include "kattn/layers/noise_layer.hpp"

namespace kattn {

class Dropout : public NoiseLayer {
 public:
  // rate is required in Keras; its 0 default is a valid rate here.
  struct Args {
    double rate = 0.0;  // in [0, 1]
    // The shape of the keep mask, broadcast against the input: one entry per input axis, each
    // the input's length or 1; -1 (Keras's None) takes the input's length.
    std::optional<Shape> noise_shape = std::nullopt;
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit Dropout(Args args);
  static std::unique_ptr<Dropout> from_config(const Config& config);

  // call(inputs, training), forward and backward are NoiseLayer's: backward applies the
  // forward's keep mask to d_output, d_inputs = keep ? d_output / (1 - rate) : 0.

  double rate() const { return rate_; }
  const std::optional<Shape>& noise_shape() const { return noise_shape_; }

  Config get_config() const override;

 protected:
  // For the spatial dropouts: another class name, and their noise shape.
  Dropout(std::string class_name, Args args);

  bool perturbs() const override { return rate_ > 0.0; }
  Tensor perturb(const Tensor& inputs, uint64_t key) const override;
  Tensor perturb_backward(const Tensor& d_output, uint64_t key) const override;

 private:
  // x with the keep mask of `key` applied: kept values / (1 - rate), others 0.
  Tensor apply_keep_mask(const Tensor& x, uint64_t key) const;

  double rate_;
  std::optional<Shape> noise_shape_;
};

}  // namespace kattn
