// kattn::set_random_seed (keras.utils.set_random_seed): after it, whatever draws a seed for
// seed=None repeats the same draws in the same order; without it, every draw is fresh.
#include <gtest/gtest.h>

#include <vector>

#include "kattn/core/initializers.hpp"
#include "kattn/core/random.hpp"

namespace kattn {
namespace {

// Two unseeded initializer calls and the first keys of an unseeded SeedGenerator.
struct Draws {
  std::vector<float> first, second;
  std::vector<uint64_t> keys;
  bool operator==(const Draws&) const = default;
};

Draws draw() {
  const Initializer glorot = Initializer::glorot_uniform();
  const SeedGenerator generator;
  return {glorot({3, 4}).to_vector(),
          glorot({3, 4}).to_vector(),
          {generator.next_key(), generator.next_key()}};
}

TEST(SetRandomSeed, RepeatsTheUnseededDraws) {
  set_random_seed(5);
  const Draws run = draw();
  EXPECT_NE(run.first, run.second);  // each call still draws a new seed
  EXPECT_NE(run.keys[0], run.keys[1]);
  set_random_seed(5);
  EXPECT_EQ(draw(), run);
  set_random_seed(6);
  const Draws other = draw();
  EXPECT_NE(other.first, run.first);
  EXPECT_NE(other.keys, run.keys);
  // The stream goes on: the next draws are new ones, not the first ones again.
  EXPECT_NE(draw(), other);
}

TEST(SetRandomSeed, LeavesSeededComponentsAlone) {
  const std::vector<float> seeded = Initializer::glorot_uniform(3)({3, 4}).to_vector();
  const uint64_t key = SeedGenerator(3).next_key();
  set_random_seed(9);
  EXPECT_EQ(Initializer::glorot_uniform(3)({3, 4}).to_vector(), seeded);
  EXPECT_EQ(SeedGenerator(3).next_key(), key);
}

TEST(SetRandomSeed, WithoutItEveryRunDrawsAfresh) { EXPECT_NE(draw(), draw()); }

}  // namespace
}  // namespace kattn
