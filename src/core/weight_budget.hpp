// A cap on the weight values layers may create while a model file is being loaded: the file's
// config.json says how large each weight is, and a hostile one can declare gigabytes that the
// weights file does not hold. Loading sets the budget to what the weights file can hold, so
// such a layer fails before allocating. Weights created under a budget are about to be loaded:
// they start as zeros, which cost no memory until the loaded values are written.
#pragma once

#include <cstdint>
#include <string_view>

#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn::detail {

// While one is alive, layers built on this thread may create at most `elements` weight values
// in all. Budgets do not nest: an inner one replaces the outer one until it ends.
class WeightBudget {
 public:
  explicit WeightBudget(int64_t elements);
  ~WeightBudget();
  WeightBudget(const WeightBudget&) = delete;
  WeightBudget& operator=(const WeightBudget&) = delete;

  // Takes the values of a weight of `shape` from the budget in force, if any; ValueError
  // naming the layer, the weight and its shape when they do not fit. True when a budget is in
  // force: the weight's values will be loaded, and need no initializer.
  static bool spend(ErrorSource source, std::string_view weight, const Shape& shape);

 private:
  int64_t* previous_;
  int64_t left_;
};

}  // namespace kattn::detail
