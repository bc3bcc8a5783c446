// Keras weight initializers (keras.initializers), by their Keras names and serialized configs.
//
// Supported: Zeros, Ones, Constant, Identity, RandomNormal, RandomUniform, TruncatedNormal,
// VarianceScaling and its subclasses GlorotUniform, GlorotNormal, HeUniform, HeNormal,
// LecunUniform, LecunNormal, and Orthogonal. Any other class (STFTInitializer, custom ones) is
// refused by name (NotSupportedError listing the supported ones).
//
// Values follow Keras's distributions and formulas, not its random streams: a seeded initializer
// gives the same values for the same seed and shape on every call and every run (the generator
// is std::mt19937_64 with kattn's own uniform and normal transforms, so the standard library
// does not change them); an unseeded one draws a fresh seed on every call (draw_seed(): the
// stream set_random_seed starts, or the system's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// Keras's compute_fans: for rank > 2 the leading axes form the receptive field,
// fan_in = shape[-2] * receptive, fan_out = shape[-1] * receptive; rank 1: both shape[0];
// rank 0: both 1.
struct Fans {
  double fan_in;
  double fan_out;
};
Fans compute_fans(const Shape& shape);

// One Keras initializer: its class, its arguments and the config Keras writes for it. A value
// type, cheap to copy; calling it is const and safe from several threads at once.
class Initializer {
 public:
  static Initializer zeros();
  static Initializer ones();
  static Initializer constant(double value);
  // gain * eye(rows, cols); only for rank-2 shapes.
  static Initializer identity(double gain = 1.0);

  // Normal values: mean + stddev * z.
  static Initializer random_normal(double mean = 0.0, double stddev = 0.05,
                                   std::optional<int64_t> seed = std::nullopt);
  // Keras's RandomUniform, Embedding's default ("uniform"): values uniform in [minval, maxval).
  static Initializer random_uniform(double minval = -0.05, double maxval = 0.05,
                                    std::optional<int64_t> seed = std::nullopt);
  // Normal values, redrawn while more than two standard deviations from the mean.
  static Initializer truncated_normal(double mean = 0.0, double stddev = 0.05,
                                      std::optional<int64_t> seed = std::nullopt);

  // Keras's VarianceScaling: n = fan_in, fan_out or their mean (compute_fans, at least 1);
  // "truncated_normal" draws with stddev sqrt(scale / n) / 0.87962566103423978 truncated at two
  // stddev (so the variance is scale / n), "untruncated_normal" with stddev sqrt(scale / n),
  // "uniform" in [-sqrt(3 * scale / n), sqrt(3 * scale / n)). `distribution` is matched without
  // case, and "normal" means "truncated_normal", as in Keras. Throws ValueError on a scale that
  // is not positive and on an unknown mode or distribution.
  static Initializer variance_scaling(double scale = 1.0, const std::string& mode = "fan_in",
                                      const std::string& distribution = "truncated_normal",
                                      std::optional<int64_t> seed = std::nullopt);
  // The VarianceScaling subclasses: (scale, mode, distribution) fixed by the class.
  // Keras's default kernel initializer: (1, fan_avg, uniform).
  static Initializer glorot_uniform(std::optional<int64_t> seed = std::nullopt);
  // (1, fan_avg, truncated_normal)
  static Initializer glorot_normal(std::optional<int64_t> seed = std::nullopt);
  // (2, fan_in, uniform)
  static Initializer he_uniform(std::optional<int64_t> seed = std::nullopt);
  // (2, fan_in, truncated_normal)
  static Initializer he_normal(std::optional<int64_t> seed = std::nullopt);
  // (1, fan_in, uniform)
  static Initializer lecun_uniform(std::optional<int64_t> seed = std::nullopt);
  // (1, fan_in, truncated_normal)
  static Initializer lecun_normal(std::optional<int64_t> seed = std::nullopt);

  // Keras's Orthogonal: the shape is seen as a (prod(shape[:-1]), shape[-1]) matrix, whose
  // columns (rows when it is wide) are orthonormal, times `gain`. Only for rank >= 2.
  static Initializer orthogonal(double gain = 1.0, std::optional<int64_t> seed = std::nullopt);

  // A Keras serialized initializer: a name string ("glorot_uniform", "GlorotUniform", "uniform",
  // "normal", ...: the class with its default arguments) or an object
  // {"module": "keras.initializers", "class_name": ..., "config": {...}}. Unknown config keys
  // and invalid arguments raise ValueError; unknown classes NotSupportedError.
  static Initializer from_config(const Config& config);
  // The serialized object Keras writes into a layer config, with Keras's keys.
  Config get_config() const;

  const std::string& class_name() const { return class_name_; }
  // The seed given at construction; null for unseeded and non-random initializers.
  std::optional<int64_t> seed() const { return seed_; }

  // A fresh tensor of `shape` with this initializer's values. Identity and Orthogonal throw
  // ValueError on shapes of the wrong rank.
  Tensor operator()(const Shape& shape) const;

 private:
  enum class Kind {
    kConstant,  // Zeros, Ones, Constant: value_
    kIdentity,  // gain_
    kRandomNormal,
    kTruncatedNormal,
    kRandomUniform,
    kVarianceScaling,  // and its subclasses
    kOrthogonal,       // gain_
  };
  enum class FanMode { kFanIn, kFanOut, kFanAvg };
  enum class Distribution { kTruncatedNormal, kUntruncatedNormal, kUniform };

  Initializer() = default;
  // Reads the inner config of `class_name` (a canonical Keras class name): the one place where
  // arguments are validated, for the factories as for from_config.
  static Initializer parse(const std::string& class_name, const Config& inner);

  std::string class_name_;
  Kind kind_ = Kind::kConstant;
  std::optional<int64_t> seed_;
  double value_ = 0.0;
  double gain_ = 1.0;
  double mean_ = 0.0;
  double stddev_ = 0.05;
  double minval_ = -0.05;
  double maxval_ = 0.05;
  double scale_ = 1.0;
  FanMode mode_ = FanMode::kFanIn;
  Distribution distribution_ = Distribution::kTruncatedNormal;
  // The inner "config" object Keras's get_config() writes, numbers kept as they were given.
  Config config_ = Config::object();
};

}  // namespace kattn
