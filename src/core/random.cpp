#include "kattn/core/random.hpp"

#include <cmath>
#include <mutex>
#include <numbers>
#include <random>

namespace kattn {

namespace {

// SplitMix64 finaliser: a bijective mix with good avalanche, enough for dropout masks.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The stream set_random_seed starts: null until it is called.
struct GlobalSeeds {
  std::mutex mutex;
  std::optional<uint64_t> state;
};

GlobalSeeds& global_seeds() {
  static GlobalSeeds seeds;
  return seeds;
}

}  // namespace

void set_random_seed(int64_t seed) {
  GlobalSeeds& seeds = global_seeds();
  const std::scoped_lock lock(seeds.mutex);
  seeds.state = mix(static_cast<uint64_t>(seed));
}

uint64_t draw_seed() {
  GlobalSeeds& seeds = global_seeds();
  {
    const std::scoped_lock lock(seeds.mutex);
    if (seeds.state) {
      *seeds.state += 0x9E3779B97F4A7C15ull;
      return mix(*seeds.state);
    }
  }
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ static_cast<uint64_t>(device());
}

SeedGenerator::SeedGenerator(std::optional<int64_t> seed)
    : seed_(seed),
      state_(mix(seed ? static_cast<uint64_t>(*seed) : draw_seed())),
      counter_(std::make_unique<std::atomic<uint64_t>>(0)) {}

uint64_t SeedGenerator::next_key() const {
  return mix(state_ ^ mix(counter_->fetch_add(1, std::memory_order_relaxed)));
}

double uniform(uint64_t key, uint64_t index) {
  // 53 random bits -> [0, 1).
  return static_cast<double>(mix(key ^ mix(index)) >> 11) * 0x1.0p-53;
}

double standard_normal(uint64_t key, uint64_t index) {
  // 1 - u in (0, 1]: the logarithm stays finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform(key, 2 * index)));
  return radius * std::cos(2.0 * std::numbers::pi * uniform(key, 2 * index + 1));
}

bool dropout_keeps(uint64_t key, uint64_t index, double rate) {
  return uniform(key, index) < 1.0 - rate;
}

}  // namespace kattn
