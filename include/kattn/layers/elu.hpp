// keras.layers.ELU, exact to Keras 3.16: x >= 0 ? x : alpha * expm1(x).
// Weightless; the output keeps the input's Keras mask.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rectifier_layer.hpp"

namespace kattn {

class ELU : public RectifierLayer {
 public:
  struct Args {
    double alpha = 1.0;
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  ELU();
  // ValueError with Keras's wording for nothing (Keras checks no argument).
  explicit ELU(Args args);
  static std::unique_ptr<ELU> from_config(const Config& config);

  double alpha() const { return args_.alpha; }

  Config get_config() const override;

 private:
  Args args_;
};

}  // namespace kattn
