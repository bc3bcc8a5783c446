// The kernel sizes of a validated call: every axis before (T, dim) folds into the batch.
#pragma once

#include "kattn/core/tensor.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn::detail {

// query (B..., Tq, D), key (B..., Tv, D), value (B..., Tv, Dv).
inline kernels::reference::dense::Dims dense_attention_dims(const Shape& query, const Shape& key,
                                                            const Shape& value) {
  kernels::reference::dense::Dims dims;
  dims.batch = num_elements(Shape(query.begin(), query.end() - 2));
  dims.tq = query[query.size() - 2];
  dims.tv = key[key.size() - 2];
  dims.dim = query.back();
  dims.value_dim = value.back();
  return dims;
}

}  // namespace kattn::detail
