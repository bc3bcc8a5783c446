// keras.layers.GaussianDropout, exact to Keras 3.16's rule (not to its random numbers).
//
//   inference: output = inputs (the same tensor)
//   training, rate > 0: output = inputs * (1 + sqrt(rate / (1 - rate)) * n), n standard normal
//   per element
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

class GaussianDropout : public NoiseLayer {
 public:
  struct Args {
    double rate = 0.0;  // in [0, 1]; required in Keras
    std::optional<int64_t> seed = std::nullopt;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError (Keras's wording) for a rate outside [0, 1].
  explicit GaussianDropout(Args args);
  static std::unique_ptr<GaussianDropout> from_config(const Config& config);

  double rate() const { return rate_; }
  Config get_config() const override;

 protected:
  bool perturbs() const override { return rate_ > 0.0; }
  Tensor perturb(const Tensor& inputs, uint64_t key) const override;
  // d_inputs = d_output times the same factors.
  Tensor perturb_backward(const Tensor& d_output, uint64_t key) const override;

 private:
  double rate_;
};

}  // namespace kattn
