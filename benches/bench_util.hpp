// What the benchmarks share.
#pragma once

#include <cstdint>
#include <random>
#include <utility>

#include "kattn/core/tensor.hpp"

namespace kattn::bench {

// Standard-normal values from a fixed seed (never zeros: some kernels skip them).
inline Tensor random_tensor(Shape shape, uint64_t seed) {
  Tensor tensor(std::move(shape));
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < tensor.size(); ++i) tensor.data()[i] = normal(engine);
  return tensor;
}

}  // namespace kattn::bench
