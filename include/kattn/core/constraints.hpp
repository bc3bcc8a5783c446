// Keras weight constraints (keras.constraints): MaxNorm, NonNeg, UnitNorm and MinMaxNorm, by
// their Keras names and serialized configs. Other classes are refused by name
// (NotSupportedError).
//
// Keras applies a variable's constraint right after each optimizer update; apply() does the
// same projection in place.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// The `axis` argument of the norm constraints: the axes the norms are taken over. Keras accepts
// one integer (its default, 0), a list of integers, or None (every axis); negative axes count
// from the end of the weight's shape, which is known only when the constraint is applied.
class ConstraintAxis {
 public:
  // One axis: written back as an integer.
  ConstraintAxis(int64_t axis) : axes_{axis} {}  // NOLINT(google-explicit-constructor)
  // A list of axes: written back as a list, even of one.
  ConstraintAxis(std::initializer_list<int64_t> axes)  // NOLINT(google-explicit-constructor)
      : axes_(axes), is_list_(true) {}
  ConstraintAxis(std::vector<int64_t> axes)  // NOLINT(google-explicit-constructor)
      : axes_(std::move(axes)), is_list_(true) {}
  // axis=None: the norm of the whole tensor.
  static ConstraintAxis all() {
    ConstraintAxis axis(std::vector<int64_t>{});
    axis.is_all_ = true;
    return axis;
  }

  // The axes as given (empty for all()).
  const std::vector<int64_t>& axes() const { return axes_; }
  bool is_all() const { return is_all_; }
  // The Keras config value: 0, [0, 1] or null.
  Config to_config() const;

 private:
  std::vector<int64_t> axes_;
  bool is_list_ = false;
  bool is_all_ = false;
};

// A value type, cheap to copy; apply() is const and safe from several threads on different
// tensors.
class Constraint {
 public:
  // Keras's defaults: MaxNorm(max_value=2, axis=0), UnitNorm(axis=0),
  // MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0).
  static Constraint max_norm(double max_value = 2.0, ConstraintAxis axis = 0);
  static Constraint non_neg();
  static Constraint unit_norm(ConstraintAxis axis = 0);
  static Constraint min_max_norm(double min_value = 0.0, double max_value = 1.0, double rate = 1.0,
                                 ConstraintAxis axis = 0);

  // A Keras serialized constraint: null (no constraint: returns std::nullopt), a name
  // ("max_norm", "non_neg", "unit_norm", "min_max_norm", or the class name: the class with its
  // default arguments) or an object {"module": "keras.constraints", "class_name": "MaxNorm",
  // "config": {"max_value": 2, "axis": 0}}.
  static std::optional<Constraint> from_config(const Config& config);
  // The serialized object Keras writes into a layer config, numbers kept as they were given.
  Config get_config() const;
  // get_config() of `constraint`, or null when there is none.
  static Config serialize(const std::optional<Constraint>& constraint);

  const std::string& class_name() const { return class_name_; }

  // Projects `w` in place, with Keras's formulas (norms = sqrt(sum(w^2, axis, keepdims)),
  // epsilon = 1e-7, keras.backend.epsilon()):
  //   MaxNorm:    w * clip(norms, 0, max_value) / (epsilon + norms)
  //   UnitNorm:   w / (epsilon + norms)
  //   MinMaxNorm: w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms)
  //                 / (epsilon + norms)
  //   NonNeg:     max(w, 0)
  // Norms are summed in double. Throws ValueError when an axis is out of range for w's rank or
  // repeated. `w` may be a strided view.
  void apply(Tensor& w) const;

 private:
  enum class Kind { kMaxNorm, kNonNeg, kUnitNorm, kMinMaxNorm };

  Constraint() = default;
  // Reads the inner config of `class_name` (a canonical Keras class name), for the factories as
  // for from_config.
  static Constraint parse(const std::string& class_name, const Config& inner);

  std::string class_name_;
  Kind kind_ = Kind::kNonNeg;
  double min_value_ = 0.0;
  double max_value_ = 0.0;
  double rate_ = 1.0;
  ConstraintAxis axis_ = 0;
  // The inner "config" object Keras's get_config() writes.
  Config config_ = Config::object();
};

}  // namespace kattn
