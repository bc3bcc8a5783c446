// Seeded randomness for dropout and noise: counter-based, so a result depends on the seed, the call
// and the element's index only, never on the thread count or the order of the work.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace kattn {

// keras.utils.set_random_seed: from here on, everything that would draw a seed from the system
// for seed=None (unseeded initializers, SeedGenerator(), fit's shuffling without a seed) takes it
// from one stream started at `seed` instead, so a program that builds and trains its model in the
// same order gives the same weights and results on every run. The values are kattn's own: the same
// seed does not give Keras's numbers.
void set_random_seed(int64_t seed);

// The seed a component created with seed=None uses: the next one from the stream set_random_seed
// started, or one from std::random_device when it was never called. Safe from several threads.
uint64_t draw_seed();

// Keras's SeedGenerator: each call of a layer in training mode draws a fresh key from it.
// Safe to use from several threads at once.
class SeedGenerator {
 public:
  // `seed` null takes one from draw_seed(), as Keras does for seed=None.
  explicit SeedGenerator(std::optional<int64_t> seed = std::nullopt);

  // The seed given at construction (null when none was given).
  std::optional<int64_t> seed() const { return seed_; }

  // A new key for one call: the same sequence of keys for the same seed.
  uint64_t next_key() const;

 private:
  std::optional<int64_t> seed_;
  uint64_t state_;
  std::unique_ptr<std::atomic<uint64_t>> counter_;
};

// A uniform number in [0, 1) for element `index` under `key`.
double uniform(uint64_t key, uint64_t index);

// A standard normal number for element `index` under `key` (Box-Muller over two uniforms).
double standard_normal(uint64_t key, uint64_t index);

// Keras's dropout rule for one element: kept when uniform(key, index) < 1 - rate; kept elements
// are scaled by 1 / (1 - rate).
bool dropout_keeps(uint64_t key, uint64_t index, double rate);

}  // namespace kattn
