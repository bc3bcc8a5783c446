// keras.layers.LeakyReLU, exact to Keras 3.16: max(x, negative_slope * x), negative_slope 0.3 by
// default (the activation leaky_relu's is 0.2). Weightless; the output keeps the input's Keras
// mask.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rectifier_layer.hpp"

namespace kattn {

class LeakyReLU : public RectifierLayer {
 public:
  struct Args {
    double negative_slope = 0.3;  // >= 0
    std::string name = "";        // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  LeakyReLU();
  // ValueError with Keras's wording for a negative negative_slope.
  explicit LeakyReLU(Args args);
  static std::unique_ptr<LeakyReLU> from_config(const Config& config);

  double negative_slope() const { return args_.negative_slope; }

  Config get_config() const override;

 private:
  Args args_;
};

}  // namespace kattn
