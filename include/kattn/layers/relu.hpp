// keras.layers.ReLU, exact to Keras 3.16: keras.activations.relu(x, negative_slope, max_value,
// threshold) (kattn/ops/rectifiers.hpp). Weightless; the output keeps the input's Keras mask.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rectifier_layer.hpp"

namespace kattn {

class ReLU : public RectifierLayer {
 public:
  struct Args {
    std::optional<double> max_value = std::nullopt;  // >= 0; None: unbounded
    double negative_slope = 0.0;                     // >= 0
    double threshold = 0.0;                          // >= 0
    std::string name = "";                           // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  ReLU();
  // ValueError with Keras's wording for a negative max_value, negative_slope or threshold.
  explicit ReLU(Args args);
  static std::unique_ptr<ReLU> from_config(const Config& config);

  const std::optional<double>& max_value() const { return args_.max_value; }
  double negative_slope() const { return args_.negative_slope; }
  double threshold() const { return args_.threshold; }

  Config get_config() const override;

 private:
  Args args_;
};

}  // namespace kattn
