#include "core/weight_budget.hpp"

#include <limits>
#include <string>

namespace kattn::detail {

namespace {

thread_local int64_t* budget_left = nullptr;

// The element count of `shape`, saturating instead of overflowing.
int64_t saturating_elements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim == 0) return 0;
    if (dim < 0 || count > std::numeric_limits<int64_t>::max() / dim) {
      return std::numeric_limits<int64_t>::max();
    }
    count *= dim;
  }
  return count;
}

}  // namespace

WeightBudget::WeightBudget(int64_t elements) : previous_(budget_left), left_(elements) {
  budget_left = &left_;
}

WeightBudget::~WeightBudget() { budget_left = previous_; }

bool WeightBudget::spend(ErrorSource source, std::string_view weight, const Shape& shape) {
  if (budget_left == nullptr) return false;
  const int64_t elements = saturating_elements(shape);
  if (elements > *budget_left) {
    throw_value_error(source,
                      "weight `" + std::string(weight) + "` is larger than the weights file holds",
                      "at most " + std::to_string(*budget_left) + " more values",
                      "shape " + shape_to_string(shape));
  }
  *budget_left -= elements;
  return true;
}

}  // namespace kattn::detail
