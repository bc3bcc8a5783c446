// A cap on the weight values layers may create while a model file is being loaded: the file's
// config.json says how large each weight is, and a hostile one can declare gigabytes that the
// weights file does not hold. Loading sets the budget to what the weights file holds, so such
// a layer fails before allocating.
#pragma once

#include <cstdint>
#include <string_view>

#include "kattn/error.hpp"
#include "kattn/tensor.hpp"

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
  // naming the layer, the weight and its shape when they do not fit.
  static void spend(ErrorSource source, std::string_view weight, const Shape& shape);

 private:
  int64_t* previous_;
  int64_t left_;
};

}  // namespace kattn::detail
