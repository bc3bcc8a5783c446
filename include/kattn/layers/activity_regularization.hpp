// keras.layers.ActivityRegularization: output = inputs (the same tensor, with its Keras mask);
// in training Model::fit adds l1 * sum(|output|) + l2 * sum(output^2) to the loss (the layer's
// activity regularizer, L1L2(l1, l2)).
#pragma once

#include <memory>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/identity.hpp"

namespace kattn {

class ActivityRegularization : public Identity {
 public:
  struct Args {
    double l1 = 0.0;        // >= 0
    double l2 = 0.0;        // >= 0
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  ActivityRegularization();
  // ValueError for a negative or non-finite factor (L1L2's checks).
  explicit ActivityRegularization(Args args);
  static std::unique_ptr<ActivityRegularization> from_config(const Config& config);

  double l1() const { return l1_; }
  double l2() const { return l2_; }
  // L1L2(l1, l2), serialized.
  Config activity_regularizer() const override;
  // The base keys, l1 and l2 (no activity_regularizer key, as Keras writes it).
  Config get_config() const override;

 private:
  double l1_;
  double l2_;
};

}  // namespace kattn
