// keras.layers.GaussianNoise, exact to Keras 3.16's rule (not to its random numbers).
//
//   inference: output = inputs (the same tensor)
//   training, stddev > 0: output = inputs + stddev * n, n standard normal per element
//
// The output keeps the input's Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/noise_layer.hpp"

namespace kattn {

class GaussianNoise : public NoiseLayer {
 public:
  struct Args {
    double stddev = 0.0;  // in [0, 1]; required in Keras
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError (Keras's wording) for a stddev outside [0, 1].
  explicit GaussianNoise(Args args);
  static std::unique_ptr<GaussianNoise> from_config(const Config& config);

  double stddev() const { return stddev_; }
  Config get_config() const override;

 protected:
  bool perturbs() const override { return stddev_ > 0.0; }
  Tensor perturb(const Tensor& inputs, uint64_t key) const override;
  // The noise is added: d_inputs = d_output.
  Tensor perturb_backward(const Tensor& d_output, uint64_t key) const override;

 private:
  double stddev_;
};

}  // namespace kattn
