// Keras weight initializers, by their Keras names and serialized configs.
//
// Supported here: Zeros, Ones, Constant, GlorotUniform, RandomUniform. Any other class is
// refused by name (NotSupportedError listing the supported ones).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kattn/config.hpp"
#include "kattn/tensor.hpp"

namespace kattn {

// Keras's compute_fans: for rank > 2 the leading axes form the receptive field,
// fan_in = shape[-2] * receptive, fan_out = shape[-1] * receptive; rank 1: both shape[0];
// rank 0: both 1.
struct Fans {
  double fan_in;
  double fan_out;
};
Fans compute_fans(const Shape& shape);

class Initializer {
 public:
  // Keras's default kernel initializer.
  static Initializer glorot_uniform(std::optional<int64_t> seed = std::nullopt);
  static Initializer zeros();
  static Initializer ones();
  static Initializer constant(double value);
  // Keras's RandomUniform, Embedding's default ("uniform"): values uniform in [minval, maxval).
  static Initializer random_uniform(double minval = -0.05, double maxval = 0.05,
                                    std::optional<int64_t> seed = std::nullopt);

  // A Keras serialized initializer: a name string ("glorot_uniform", "zeros", "uniform") or an
  // object {"module": "keras.initializers", "class_name": ..., "config": {...}}.
  static Initializer from_config(const Config& config);
  // The serialized object Keras writes into a layer config.
  Config get_config() const;

  const std::string& class_name() const { return class_name_; }

  // A fresh tensor of `shape` with this initializer's values. Seeded initializers give the same
  // values for the same seed and shape; unseeded ones draw a new seed each time.
  Tensor operator()(const Shape& shape) const;

 private:
  Initializer(std::string class_name, std::optional<int64_t> seed, double value);

  std::string class_name_;
  std::optional<int64_t> seed_;
  double value_ = 0.0;
  double minval_ = 0.0;  // RandomUniform's range
  double maxval_ = 0.0;
};

}  // namespace kattn
