// Keras constraints: projections by Keras's formulas, axes, configs and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/constraints.hpp"
#include "kattn/core/error.hpp"

namespace kattn {
namespace {

using testing::expect_error;

// keras.backend.epsilon().
constexpr double kEps = 1e-7;

Config keras_constraint(const std::string& class_name, const Config& inner) {
  return {{"module", "keras.constraints"},
          {"class_name", class_name},
          {"config", inner},
          {"registered_name", nullptr}};
}

// A constrained copy: tensors share storage, so `w` itself is left as it was.
Tensor applied(const Constraint& constraint, const Tensor& w) {
  Tensor out = w.clone();
  constraint.apply(out);
  return out;
}

void expect_values(const Tensor& actual, const std::vector<double>& expected) {
  const std::vector<float> v = actual.to_vector();
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_FLOAT_EQ(v[i], static_cast<float>(expected[i])) << "element " << i;
  }
}

// w (3, 2): column 0 = (3, 4, 0) has norm 5, column 1 = (0.6, 0.8, 0) norm 1; row 0 = (3, 0.6)
// has norm sqrt(9.36), row 1 = (4, 0.8) norm sqrt(16.64), row 2 is zero.
Tensor w32() { return Tensor({3, 2}, {3.0f, 0.6f, 4.0f, 0.8f, 0.0f, 0.0f}); }

TEST(ConstraintMaxNorm, ScalesColumnsAboveTheMaxDown) {
  // Keras's default MaxNorm(max_value=2, axis=0): column 0 to norm 2, column 1 (norm 1 <= 2)
  // kept, both through desired / (epsilon + norms).
  const double c0 = 2.0 / (kEps + 5.0);
  const double c1 = 1.0 / (kEps + 1.0);
  expect_values(applied(Constraint::max_norm(), w32()), {3 * c0, 0.6 * c1, 4 * c0, 0.8 * c1, 0, 0});
}

TEST(ConstraintMaxNorm, RowsWithAxisOneOrMinusOne) {
  // MaxNorm(3.5) over rows: row 0 (norm 3.06) kept, row 1 (norm 4.08) to norm 3.5, row 2 zero.
  const double n0 = std::sqrt(9.36);
  const double n1 = std::sqrt(16.64);
  const double r0 = n0 / (kEps + n0);
  const double r1 = 3.5 / (kEps + n1);
  const std::vector<double> expected = {3 * r0, 0.6 * r0, 4 * r1, 0.8 * r1, 0, 0};
  expect_values(applied(Constraint::max_norm(3.5, 1), w32()), expected);
  expect_values(applied(Constraint::max_norm(3.5, -1), w32()), expected);
}

TEST(ConstraintMaxNorm, AxisListOrNoneTakesOneNormOfEverything) {
  // sqrt(9 + 0.36 + 16 + 0.64) = sqrt(26).
  const double f = 2.0 / (kEps + std::sqrt(26.0));
  const std::vector<double> expected = {3 * f, 0.6 * f, 4 * f, 0.8 * f, 0, 0};
  expect_values(applied(Constraint::max_norm(2.0, {0, 1}), w32()), expected);
  expect_values(applied(Constraint::max_norm(2.0, {-1, 0}), w32()), expected);
  expect_values(applied(Constraint::max_norm(2.0, ConstraintAxis::all()), w32()), expected);
}

TEST(ConstraintMaxNorm, RankThreeKernelOverItsFirstTwoAxes) {
  // A (D, N, H) = (2, 2, 3) kernel with w[:, :, h] = h + 1: the norm over axes (0, 1) of slice
  // h is 2 (h + 1). MaxNorm(3): slice 0 (norm 2) kept, slices 1 and 2 (norms 4, 6) to norm 3.
  Tensor w({2, 2, 3});
  for (int64_t d = 0; d < 2; ++d) {
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t h = 0; h < 3; ++h) w(d, n, h) = static_cast<float>(h + 1);
    }
  }
  const std::vector<double> slice = {1.0 * 2 / (kEps + 2), 2.0 * 3 / (kEps + 4),
                                     3.0 * 3 / (kEps + 6)};
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i) expected.insert(expected.end(), slice.begin(), slice.end());
  expect_values(applied(Constraint::max_norm(3.0, {0, 1}), w), expected);
  expect_values(applied(Constraint::max_norm(3.0, {-3, -2}), w), expected);
}

TEST(ConstraintMaxNorm, AppliesThroughAStridedView) {
  // The view is the transpose of a (2, 3) buffer; its columns are the buffer's rows.
  Tensor buffer({2, 3}, {3, 4, 0, 0.6f, 0.8f, 0});
  Tensor view = buffer.transpose(0, 1);
  Constraint::max_norm().apply(view);
  const double c0 = 2.0 / (kEps + 5.0);
  const double c1 = 1.0 / (kEps + 1.0);
  expect_values(buffer, {3 * c0, 4 * c0, 0, 0.6 * c1, 0.8 * c1, 0});
}

TEST(ConstraintUnitNorm, DividesByEpsilonPlusTheNorm) {
  expect_values(applied(Constraint::unit_norm(), w32()),
                {3 / (kEps + 5), 0.6 / (kEps + 1), 4 / (kEps + 5), 0.8 / (kEps + 1), 0, 0});
  // A zero row stays zero (0 / epsilon), the others get norm 1 / (1 + epsilon / norm).
  const double n0 = std::sqrt(9.36);
  const double n1 = std::sqrt(16.64);
  expect_values(applied(Constraint::unit_norm(1), w32()),
                {3 / (kEps + n0), 0.6 / (kEps + n0), 4 / (kEps + n1), 0.8 / (kEps + n1), 0, 0});
}

TEST(ConstraintUnitNorm, EpsilonShowsOnTinyNorms) {
  // A column of norm 5e-7: w / (1e-7 + 5e-7) has norm 5 / 6, not 1.
  expect_values(applied(Constraint::unit_norm(), Tensor({2, 1}, {3e-7f, 4e-7f})),
                {3e-7 / (kEps + 5e-7), 4e-7 / (kEps + 5e-7)});
  // MaxNorm keeps a norm below max_value, but still through desired / (epsilon + norms).
  expect_values(applied(Constraint::max_norm(), Tensor({2, 1}, {3e-7f, 4e-7f})),
                {3e-7 * 5e-7 / (kEps + 5e-7), 4e-7 * 5e-7 / (kEps + 5e-7)});
}

TEST(ConstraintMinMaxNorm, ClipsAtRateOneAndMovesPartWayBelowOne) {
  // Columns of norms 0.5, 1.5 and 5 (each a (0.6, 0.8) direction times the norm).
  const Tensor w({2, 3}, {0.3f, 0.9f, 3.0f, 0.4f, 1.2f, 4.0f});
  const std::vector<double> norms = {0.5, 1.5, 5.0};
  for (const double rate : {1.0, 0.25}) {
    SCOPED_TRACE("rate " + std::to_string(rate));
    std::vector<double> factor;
    for (double n : norms) {
      const double clipped = std::min(std::max(n, 1.0), 2.0);
      factor.push_back((rate * clipped + (1 - rate) * n) / (kEps + n));
    }
    // rate 1: norms to 1, 1.5, 2; rate 0.25: to 0.625, 1.5, 4.25.
    expect_values(applied(Constraint::min_max_norm(1.0, 2.0, rate), w),
                  {0.3 * factor[0], 0.9 * factor[1], 3.0 * factor[2], 0.4 * factor[0],
                   1.2 * factor[1], 4.0 * factor[2]});
  }
  // Keras's defaults (0, 1, 1, axis 0): the third column to norm 1.
  const Tensor out = applied(Constraint::min_max_norm(), w);
  EXPECT_NEAR(std::hypot(out(0, 2), out(1, 2)), 1.0, 1e-6);
  EXPECT_NEAR(std::hypot(out(0, 0), out(1, 0)), 0.5, 1e-6);
}

TEST(ConstraintNonNeg, ZeroesNegativesKeepsNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor w({6}, {-1.0f, 0.0f, 2.0f, -0.5f, std::nanf(""), -inf});
  Constraint::non_neg().apply(w);
  const std::vector<float> v = w.to_vector();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[2], 2.0f);
  EXPECT_EQ(v[3], 0.0f);
  EXPECT_TRUE(std::isnan(v[4]));  // ops.maximum keeps NaN
  EXPECT_EQ(v[5], 0.0f);
}

TEST(ConstraintErrors, AxesOutOfRangeOrRepeated) {
  expect_error([] { applied(Constraint::max_norm(2.0, 2), w32()); },
               "MaxNorm: axis out of range. Expected axes in [-2, 2) for a weight of shape (3, 2). "
               "Received: axis=2.");
  expect_error(
      [] {
        applied(Constraint::unit_norm({0, -3}), w32());
      },
      "UnitNorm: axis out of range. Expected axes in [-2, 2) for a weight of shape (3, "
      "2). Received: axis=[0,-3].");
  expect_error(
      [] {
        applied(Constraint::min_max_norm(0.0, 1.0, 1.0, {1, -1}), w32());
      },
      "MinMaxNorm: duplicate axis. Expected distinct axes. Received: axis=[1,-1].");
}

TEST(ConstraintConfig, KerasConfigsRoundTrip) {
  for (const Config& config :
       {keras_constraint("MaxNorm", {{"max_value", 2}, {"axis", 0}}),
        keras_constraint("MaxNorm", {{"max_value", 1.5}, {"axis", {0, 1, 2}}}),
        keras_constraint("NonNeg", Config::object()), keras_constraint("UnitNorm", {{"axis", -1}}),
        keras_constraint("UnitNorm", {{"axis", nullptr}}),
        keras_constraint("MinMaxNorm",
                         {{"min_value", 0.5}, {"max_value", 3}, {"rate", 0.25}, {"axis", {1}}})}) {
    const std::optional<Constraint> constraint = Constraint::from_config(config);
    ASSERT_TRUE(constraint.has_value());
    EXPECT_EQ(constraint->class_name(), config["class_name"].get<std::string>());
    // dump() compares the text too: max_value 2 stays 2, axis [1] stays a list.
    EXPECT_EQ(constraint->get_config().dump(), config.dump());
  }
}

TEST(ConstraintConfig, NamesGiveKerasDefaults) {
  EXPECT_EQ(Constraint::from_config("max_norm")->get_config().dump(),
            keras_constraint("MaxNorm", {{"max_value", 2}, {"axis", 0}}).dump());
  EXPECT_EQ(Constraint::from_config("MaxNorm")->class_name(), "MaxNorm");
  EXPECT_EQ(Constraint::from_config("non_neg")->get_config(),
            keras_constraint("NonNeg", Config::object()));
  EXPECT_EQ(Constraint::from_config("unit_norm")->get_config(),
            keras_constraint("UnitNorm", {{"axis", 0}}));
  EXPECT_EQ(Constraint::from_config("min_max_norm")->get_config(),
            keras_constraint("MinMaxNorm",
                             {{"min_value", 0.0}, {"max_value", 1.0}, {"rate", 1.0}, {"axis", 0}}));
  EXPECT_EQ(Constraint::from_config("MinMaxNorm")->get_config(),
            Constraint::min_max_norm().get_config());
}

TEST(ConstraintConfig, FactoriesWriteTheirArguments) {
  EXPECT_EQ(Constraint::max_norm(3.0, {0, 1}).get_config(),
            keras_constraint("MaxNorm", {{"max_value", 3.0}, {"axis", {0, 1}}}));
  EXPECT_EQ(Constraint::unit_norm(ConstraintAxis::all()).get_config(),
            keras_constraint("UnitNorm", {{"axis", nullptr}}));
  EXPECT_EQ(Constraint::unit_norm({2}).get_config()["config"]["axis"], Config::array({2}));
  EXPECT_EQ(Constraint::unit_norm(2).get_config()["config"]["axis"], Config(2));
}

TEST(ConstraintConfig, NullMeansNoConstraintAndConfigsApplyLikeFactories) {
  EXPECT_FALSE(Constraint::from_config(nullptr).has_value());
  EXPECT_EQ(Constraint::serialize(std::nullopt), Config(nullptr));
  EXPECT_EQ(Constraint::serialize(Constraint::non_neg()), Constraint::non_neg().get_config());
  const Config config = keras_constraint("MaxNorm", {{"max_value", 1}, {"axis", 1}});
  EXPECT_EQ(applied(*Constraint::from_config(config), w32()).to_vector(),
            applied(Constraint::max_norm(1.0, 1), w32()).to_vector());
}

TEST(ConstraintErrors, ConfigMistakesAndUnsupportedClasses) {
  expect_error(
      [] {
        Constraint::from_config(keras_constraint("MaxNorm", {{"axis", "rows"}}));
      },
      "MaxNorm: invalid config value for `axis`. Expected an integer, a list of integers or "
      "null. Received: axis=\"rows\".");
  expect_error(
      [] {
        Constraint::from_config(keras_constraint("MaxNorm", {{"axis", {0, 1.5}}}));
      },
      "MaxNorm: invalid config value for `axis`. Expected an integer, a list of integers or "
      "null. Received: axis=[0,1.5].");
  expect_error(
      [] {
        Constraint::from_config(keras_constraint("MinMaxNorm", {{"rate", "fast"}}));
      },
      "MinMaxNorm: invalid config value for `rate`. Expected a number. Received: "
      "rate=\"fast\".");
  expect_error(
      [] {
        Constraint::from_config(keras_constraint("NonNeg", {{"axis", 0}}));
      },
      "NonNeg: unrecognized keyword arguments in the config. Expected only the keys of "
      "NonNeg.get_config(). Received: {'axis': 0}.");
  expect_error<NotSupportedError>(
      [] { Constraint::from_config("Constraint"); },
      "Constraint: unsupported constraint. Expected one of MaxNorm, NonNeg, UnitNorm, "
      "MinMaxNorm. Received: constraint=Constraint.");
  expect_error([] { Constraint::from_config(Config::array({1})); },
               "Constraint: invalid constraint config. Expected null, a name string or an object "
               "with a `class_name`. Received: constraint=[1].");
}

}  // namespace
}  // namespace kattn
