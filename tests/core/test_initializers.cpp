// Keras initializers: distributions against Keras's formulas, seeds, configs and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/initializers.hpp"

namespace kattn {
namespace {

using testing::expect_error;

struct Moments {
  double mean = 0.0;
  double variance = 0.0;
  double kurtosis = 0.0;  // E[(x - mean)^4] / variance^2: 3 normal, 1.8 uniform
  double max_abs = 0.0;   // max |x - center|
  int64_t count = 0;
};

Moments moments(const Tensor& values, double center = 0.0) {
  const std::vector<float> v = values.to_vector();
  Moments m;
  m.count = static_cast<int64_t>(v.size());
  for (float x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  double m2 = 0.0;
  double m4 = 0.0;
  for (float x : v) {
    const double d = x - m.mean;
    m2 += d * d;
    m4 += d * d * d * d;
    m.max_abs = std::max(m.max_abs, std::fabs(x - center));
  }
  m.variance = m2 / static_cast<double>(v.size());
  m.kurtosis = (m4 / static_cast<double>(v.size())) / (m.variance * m.variance);
  return m;
}

// Second and fourth moments of a unit normal truncated to [-2, 2], from
// int_{-a}^{a} z^2 phi = Z - 2 a phi(a) and int_{-a}^{a} z^4 phi = 3 Z - 2 (a^3 + 3 a) phi(a).
double truncated_unit_variance() {
  const double a = 2.0;
  const double phi = std::exp(-a * a / 2.0) / std::sqrt(2.0 * std::numbers::pi);
  const double z = std::erf(a / std::sqrt(2.0));
  return 1.0 - 2.0 * a * phi / z;
}
double truncated_unit_kurtosis() {
  const double a = 2.0;
  const double phi = std::exp(-a * a / 2.0) / std::sqrt(2.0 * std::numbers::pi);
  const double z = std::erf(a / std::sqrt(2.0));
  const double var = truncated_unit_variance();
  return (3.0 - 2.0 * (a * a * a + 3.0 * a) * phi / z) / (var * var);
}

enum class Dist { kUniform, kNormal, kTruncated };

// Checks the sample against a distribution of mean `mean` and variance `variance`: the mean to 5
// standard errors, the variance to 5 standard errors of the sample variance
// (sqrt((kurtosis - 1) / n) relative), the kurtosis (which tells the three apart) to 0.2, and
// the support: uniform values within sqrt(3 variance) and reaching near it, truncated ones
// within two stddev of the untruncated normal.
void expect_distribution(const Tensor& values, Dist dist, double mean, double variance) {
  SCOPED_TRACE("shape " + shape_to_string(values.shape()));
  const Moments m = moments(values, mean);
  const double n = static_cast<double>(m.count);
  const double kurtosis = dist == Dist::kUniform  ? 1.8
                          : dist == Dist::kNormal ? 3.0
                                                  : truncated_unit_kurtosis();
  EXPECT_NEAR(m.mean, mean, 5.0 * std::sqrt(variance / n));
  EXPECT_NEAR(m.variance / variance, 1.0, 5.0 * std::sqrt((kurtosis - 1.0) / n));
  EXPECT_NEAR(m.kurtosis, kurtosis, 0.2);
  if (dist == Dist::kUniform) {
    const double limit = std::sqrt(3.0 * variance);
    EXPECT_LE(m.max_abs, limit * (1 + 1e-6));
    EXPECT_GT(m.max_abs, 0.99 * limit);
  } else if (dist == Dist::kTruncated) {
    const double bound = 2.0 * std::sqrt(variance / truncated_unit_variance());
    EXPECT_LE(m.max_abs, bound * (1 + 1e-6));
    EXPECT_GT(m.max_abs, 0.97 * bound);
  } else {
    // An untruncated normal goes past two stddev (about 4.6% of draws).
    EXPECT_GT(m.max_abs, 3.0 * std::sqrt(variance));
  }
}

// Dense (D, units), the (Dq, N, H) query kernel of MultiHeadAttention, a Conv1D kernel
// (width, in, out) and a Conv2D kernel (rows, cols, in, out).
const std::vector<Shape> kKernelShapes = {{256, 128}, {64, 8, 16}, {5, 40, 60}, {3, 3, 32, 64}};

TEST(InitializerFans, FollowKerasComputeFans) {
  EXPECT_EQ(compute_fans({}).fan_in, 1.0);
  EXPECT_EQ(compute_fans({}).fan_out, 1.0);
  EXPECT_EQ(compute_fans({7}).fan_in, 7.0);
  EXPECT_EQ(compute_fans({7}).fan_out, 7.0);
  EXPECT_EQ(compute_fans({3, 4}).fan_in, 3.0);
  EXPECT_EQ(compute_fans({3, 4}).fan_out, 4.0);
  // (Dq, N, H) = (64, 8, 16): the leading axis is taken as a receptive field of 64.
  EXPECT_EQ(compute_fans({64, 8, 16}).fan_in, 8.0 * 64.0);
  EXPECT_EQ(compute_fans({64, 8, 16}).fan_out, 16.0 * 64.0);
  EXPECT_EQ(compute_fans({3, 3, 32, 64}).fan_in, 32.0 * 9.0);
  EXPECT_EQ(compute_fans({3, 3, 32, 64}).fan_out, 64.0 * 9.0);
}

TEST(InitializerDistribution, RandomNormalHasItsMeanAndStddev) {
  for (const Shape& shape : kKernelShapes) {
    expect_distribution(Initializer::random_normal(0.0, 0.05, 1)(shape), Dist::kNormal, 0.0,
                        0.05 * 0.05);
    expect_distribution(Initializer::random_normal(1.5, 0.3, 2)(shape), Dist::kNormal, 1.5,
                        0.3 * 0.3);
  }
}

TEST(InitializerDistribution, TruncatedNormalRedrawsBeyondTwoStddev) {
  for (const Shape& shape : kKernelShapes) {
    // The truncated values keep the mean; their variance is stddev^2 times that of a unit
    // normal truncated at 2 (0.7737...), and none lies beyond mean +- 2 stddev.
    expect_distribution(Initializer::truncated_normal(0.0, 0.05, 3)(shape), Dist::kTruncated, 0.0,
                        0.05 * 0.05 * truncated_unit_variance());
    expect_distribution(Initializer::truncated_normal(-2.0, 0.5, 4)(shape), Dist::kTruncated, -2.0,
                        0.5 * 0.5 * truncated_unit_variance());
  }
}

TEST(InitializerDistribution, RandomUniformFillsItsRange) {
  for (const Shape& shape : kKernelShapes) {
    const Tensor values = Initializer::random_uniform(-0.2, 0.6, 5)(shape);
    expect_distribution(values, Dist::kUniform, 0.2, 0.8 * 0.8 / 12.0);
    for (float v : values.to_vector()) {
      ASSERT_GE(v, -0.2f);
      ASSERT_LE(v, 0.6f);
    }
  }
  // Keras's defaults: [-0.05, 0.05).
  expect_distribution(Initializer::random_uniform(-0.05, 0.05, 6)({256, 128}), Dist::kUniform, 0.0,
                      0.1 * 0.1 / 12.0);
}

// Keras's VarianceScaling: variance scale / n with n = fan_in, fan_out or (fan_in + fan_out) / 2.
double fan(const Shape& shape, const std::string& mode) {
  const Fans fans = compute_fans(shape);
  if (mode == "fan_in") return fans.fan_in;
  if (mode == "fan_out") return fans.fan_out;
  return (fans.fan_in + fans.fan_out) / 2.0;
}

TEST(InitializerDistribution, VarianceScalingEveryModeAndDistribution) {
  int64_t seed = 10;
  for (const Shape& shape : kKernelShapes) {
    for (const std::string mode : {"fan_in", "fan_out", "fan_avg"}) {
      for (const std::string distribution : {"truncated_normal", "untruncated_normal", "uniform"}) {
        SCOPED_TRACE(mode + " " + distribution);
        const double scale = 0.7;
        const Tensor values =
            Initializer::variance_scaling(scale, mode, distribution, seed++)(shape);
        const Dist dist = distribution == "uniform"              ? Dist::kUniform
                          : distribution == "untruncated_normal" ? Dist::kNormal
                                                                 : Dist::kTruncated;
        expect_distribution(values, dist, 0.0, scale / fan(shape, mode));
      }
    }
  }
}

TEST(InitializerDistribution, VarianceScalingSubclassesUseTheirKerasArguments) {
  struct Case {
    Initializer init;
    double scale;
    std::string mode;
    Dist dist;
  };
  const std::vector<Case> cases = {
      {Initializer::glorot_uniform(1), 1.0, "fan_avg", Dist::kUniform},
      {Initializer::glorot_normal(2), 1.0, "fan_avg", Dist::kTruncated},
      {Initializer::he_uniform(3), 2.0, "fan_in", Dist::kUniform},
      {Initializer::he_normal(4), 2.0, "fan_in", Dist::kTruncated},
      {Initializer::lecun_uniform(5), 1.0, "fan_in", Dist::kUniform},
      {Initializer::lecun_normal(6), 1.0, "fan_in", Dist::kTruncated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.init.class_name());
    for (const Shape& shape : kKernelShapes) {
      expect_distribution(c.init(shape), c.dist, 0.0, c.scale / fan(shape, c.mode));
    }
    // Rank 1 (a bias or a scale vector): fan_in = fan_out = shape[0].
    expect_distribution(c.init({20000}), c.dist, 0.0, c.scale / 20000.0);
  }
}

TEST(InitializerDistribution, GlorotUniformLimitIsSqrtSixOverFanSum) {
  // The documented form of the limit: sqrt(6 / (fan_in + fan_out)).
  const Tensor values = Initializer::glorot_uniform(7)({64, 8, 16});
  const double limit = std::sqrt(6.0 / (8.0 * 64.0 + 16.0 * 64.0));
  double max_abs = 0.0;
  for (float v : values.to_vector()) max_abs = std::max(max_abs, std::fabs(double{v}));
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.99 * limit);
}

TEST(InitializerDistribution, VarianceScalingTakesAtLeastOneAsTheFan) {
  // A (0, 5) shape has fan_in 0: Keras divides by max(1, fan), and the tensor is empty anyway.
  EXPECT_EQ(Initializer::he_normal(1)({0, 5}).size(), 0);
  // A 0-d weight: fans (1, 1), so He uniform draws within sqrt(6).
  const float v = Initializer::he_uniform(1)({}).to_vector()[0];
  EXPECT_LE(std::fabs(v), std::sqrt(6.0));
}

TEST(InitializerConstant, ZerosOnesConstantAndIdentity) {
  EXPECT_EQ(Initializer::zeros()({2, 2}).to_vector(), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(Initializer::ones()({3}).to_vector(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(Initializer::constant(-2.5)({2}).to_vector(), (std::vector<float>{-2.5f, -2.5f}));
  EXPECT_EQ(Initializer::constant(4.0)({}).to_vector(), (std::vector<float>{4.0f}));
  // gain * eye(2, 3).
  EXPECT_EQ(Initializer::identity(2.0)({2, 3}).to_vector(), (std::vector<float>{2, 0, 0, 0, 2, 0}));
  EXPECT_EQ(Initializer::from_config("identity")({3, 2}).to_vector(),
            (std::vector<float>{1, 0, 0, 1, 0, 0}));
}

// Keras's Orthogonal: with rows = prod(shape[:-1]) and cols = shape[-1], the columns are
// orthonormal when rows >= cols (W^T W = gain^2 I), the rows when rows < cols (W W^T = gain^2 I).
void expect_orthogonal(const Tensor& w, double gain) {
  const Shape& shape = w.shape();
  SCOPED_TRACE("shape " + shape_to_string(shape));
  int64_t rows = 1;
  for (size_t axis = 0; axis + 1 < shape.size(); ++axis) rows *= shape[axis];
  const int64_t cols = shape.back();
  const std::vector<float> v = w.to_vector();
  const auto at = [&](int64_t r, int64_t c) {
    return double{v[static_cast<size_t>(r * cols + c)]};
  };
  const bool tall = rows >= cols;
  const int64_t k = tall ? cols : rows;  // the side that is orthonormal
  const int64_t len = tall ? rows : cols;
  double max_error = 0.0;
  for (int64_t a = 0; a < k; ++a) {
    for (int64_t b = 0; b < k; ++b) {
      double dot = 0.0;
      for (int64_t i = 0; i < len; ++i) dot += tall ? at(i, a) * at(i, b) : at(a, i) * at(b, i);
      max_error = std::max(max_error, std::fabs(dot - (a == b ? gain * gain : 0.0)));
    }
  }
  EXPECT_LT(max_error, 2e-5 * gain * gain);
  // Not a permutation or a signed identity: most entries are far from 0 and from +-gain.
  int64_t generic = 0;
  for (float x : v) generic += std::fabs(x) > 1e-3 * gain && std::fabs(x) < 0.999 * gain;
  EXPECT_GT(generic, static_cast<int64_t>(v.size()) * 9 / 10);
}

TEST(InitializerOrthogonal, TallWideSquareAndHigherRankShapes) {
  int64_t seed = 20;
  for (const Shape& shape : std::vector<Shape>{{64, 16},
                                               {16, 64},
                                               {32, 32},
                                               {1, 8},
                                               {8, 1},
                                               {4, 8, 6},       // (32, 6): tall
                                               {3, 3, 4, 50},   // (36, 50): wide
                                               {64, 8, 16}}) {  // (512, 16): tall
    expect_orthogonal(Initializer::orthogonal(1.0, seed++)(shape), 1.0);
    expect_orthogonal(Initializer::orthogonal(2.5, seed++)(shape), 2.5);
  }
}

TEST(InitializerOrthogonal, EntriesAreCenteredWithVarianceGainSquaredOverTheLongSide) {
  // Haar-distributed columns: each of the 16 unit columns of a (256, 16) Q spreads its norm
  // over 256 entries.
  const Moments m = moments(Initializer::orthogonal(1.0, 3)({256, 16}));
  EXPECT_NEAR(m.mean, 0.0, 5.0 * std::sqrt(1.0 / 256.0 / 4096.0));
  EXPECT_NEAR(m.variance * 256.0, 1.0, 0.01);  // the sum of squares is exactly 16
}

TEST(InitializerSeed, SameSeedSameValuesOtherSeedOtherValues) {
  const std::vector<Initializer> seeded = {
      Initializer::random_normal(0.0, 1.0, 42),
      Initializer::truncated_normal(0.0, 1.0, 42),
      Initializer::random_uniform(-1.0, 1.0, 42),
      Initializer::variance_scaling(1.0, "fan_in", "uniform", 42),
      Initializer::glorot_uniform(42),
      Initializer::glorot_normal(42),
      Initializer::he_uniform(42),
      Initializer::he_normal(42),
      Initializer::lecun_uniform(42),
      Initializer::lecun_normal(42),
      Initializer::orthogonal(1.0, 42)};
  for (const Initializer& init : seeded) {
    SCOPED_TRACE(init.class_name());
    EXPECT_EQ(init.seed(), std::optional<int64_t>(42));
    const std::vector<float> a = init({16, 12}).to_vector();
    EXPECT_EQ(a, init({16, 12}).to_vector());
    // The same seed through a config gives the same values.
    EXPECT_EQ(a, Initializer::from_config(init.get_config())({16, 12}).to_vector());
    const Config other = [&] {
      Config config = init.get_config();
      config["config"]["seed"] = 43;
      return config;
    }();
    EXPECT_NE(a, Initializer::from_config(other)({16, 12}).to_vector());
  }
}

TEST(InitializerSeed, UnseededDrawsDifferOnEachCall) {
  for (const Initializer& init : {Initializer::random_normal(), Initializer::truncated_normal(),
                                  Initializer::random_uniform(), Initializer::glorot_uniform(),
                                  Initializer::he_normal(), Initializer::orthogonal()}) {
    SCOPED_TRACE(init.class_name());
    EXPECT_EQ(init.seed(), std::nullopt);
    EXPECT_NE(init({8, 8}).to_vector(), init({8, 8}).to_vector());
  }
}

// The configs Keras 3.16 writes, as in a layer config.
Config keras_initializer(const std::string& class_name, const Config& inner) {
  return {{"module", "keras.initializers"},
          {"class_name", class_name},
          {"config", inner},
          {"registered_name", nullptr}};
}

TEST(InitializerConfig, KerasConfigsRoundTrip) {
  const Config axes_null = {{"input_axes", nullptr}, {"output_axes", nullptr}};
  const auto with_axes = [&](Config inner) {
    inner.update(axes_null);
    return inner;
  };
  const std::vector<Config> configs = {
      keras_initializer("Zeros", Config::object()),
      keras_initializer("Ones", Config::object()),
      keras_initializer("Constant", {{"value", 0.5}}),
      keras_initializer("Constant", {{"value", 3}}),
      keras_initializer("Identity", {{"gain", 2.0}}),
      keras_initializer("RandomNormal", {{"seed", 7}, {"mean", 0.0}, {"stddev", 0.05}}),
      keras_initializer("TruncatedNormal", {{"seed", nullptr}, {"mean", 1.0}, {"stddev", 2.0}}),
      keras_initializer("RandomUniform", {{"seed", nullptr}, {"minval", -0.05}, {"maxval", 0.05}}),
      keras_initializer(
          "VarianceScaling",
          with_axes(
              {{"seed", 1}, {"scale", 2.0}, {"mode", "fan_out"}, {"distribution", "uniform"}})),
      keras_initializer("GlorotUniform", with_axes({{"seed", nullptr}})),
      keras_initializer("GlorotNormal", with_axes({{"seed", 3}})),
      keras_initializer("HeUniform", with_axes({{"seed", nullptr}})),
      keras_initializer("HeNormal", with_axes({{"seed", nullptr}})),
      keras_initializer("LecunUniform", with_axes({{"seed", nullptr}})),
      keras_initializer("LecunNormal", with_axes({{"seed", -5}})),
      keras_initializer("Orthogonal", {{"seed", nullptr}, {"gain", 1.0}}),
  };
  for (const Config& config : configs) {
    const Initializer init = Initializer::from_config(config);
    EXPECT_EQ(init.class_name(), config["class_name"].get<std::string>());
    // dump() compares the text too: 3 stays 3, 0.5 stays 0.5.
    EXPECT_EQ(init.get_config().dump(), config.dump());
  }
}

TEST(InitializerConfig, FactoriesWriteKerasDefaults) {
  const Config seed_and_axes = {
      {"seed", nullptr}, {"input_axes", nullptr}, {"output_axes", nullptr}};
  EXPECT_EQ(Initializer::glorot_uniform().get_config(),
            keras_initializer("GlorotUniform", seed_and_axes));
  EXPECT_EQ(Initializer::he_normal(9).get_config(),
            keras_initializer("HeNormal",
                              {{"seed", 9}, {"input_axes", nullptr}, {"output_axes", nullptr}}));
  EXPECT_EQ(
      Initializer::random_uniform().get_config(),
      keras_initializer("RandomUniform", {{"seed", nullptr}, {"minval", -0.05}, {"maxval", 0.05}}));
  EXPECT_EQ(
      Initializer::random_normal().get_config(),
      keras_initializer("RandomNormal", {{"seed", nullptr}, {"mean", 0.0}, {"stddev", 0.05}}));
  EXPECT_EQ(
      Initializer::truncated_normal().get_config(),
      keras_initializer("TruncatedNormal", {{"seed", nullptr}, {"mean", 0.0}, {"stddev", 0.05}}));
  EXPECT_EQ(Initializer::variance_scaling().get_config(),
            keras_initializer("VarianceScaling", {{"seed", nullptr},
                                                  {"scale", 1.0},
                                                  {"mode", "fan_in"},
                                                  {"distribution", "truncated_normal"},
                                                  {"input_axes", nullptr},
                                                  {"output_axes", nullptr}}));
  EXPECT_EQ(Initializer::orthogonal().get_config(),
            keras_initializer("Orthogonal", {{"seed", nullptr}, {"gain", 1.0}}));
  EXPECT_EQ(Initializer::constant(0.25).get_config(),
            keras_initializer("Constant", {{"value", 0.25}}));
  EXPECT_EQ(Initializer::zeros().get_config(), keras_initializer("Zeros", Config::object()));
}

TEST(InitializerConfig, NamesAndAliasesGiveTheClassWithItsDefaults) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"zeros", "Zeros"},
      {"zero", "Zeros"},
      {"Ones", "Ones"},
      {"one", "Ones"},
      {"constant", "Constant"},
      {"identity", "Identity"},
      {"IdentityInitializer", "Identity"},
      {"normal", "RandomNormal"},
      {"random_normal", "RandomNormal"},
      {"uniform", "RandomUniform"},
      {"random_uniform", "RandomUniform"},
      {"truncated_normal", "TruncatedNormal"},
      {"variance_scaling", "VarianceScaling"},
      {"glorot_uniform", "GlorotUniform"},
      {"GlorotNormal", "GlorotNormal"},
      {"glorot_normal", "GlorotNormal"},
      {"he_uniform", "HeUniform"},
      {"he_normal", "HeNormal"},
      {"lecun_uniform", "LecunUniform"},
      {"lecun_normal", "LecunNormal"},
      {"orthogonal", "Orthogonal"},
      {"OrthogonalInitializer", "Orthogonal"},
  };
  for (const auto& [name, class_name] : names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Initializer::from_config(name).class_name(), class_name);
    // The name is the class with an empty config.
    EXPECT_EQ(
        Initializer::from_config(name).get_config(),
        Initializer::from_config(keras_initializer(class_name, Config::object())).get_config());
  }
  EXPECT_EQ(Initializer::from_config("he_normal").get_config(),
            Initializer::he_normal().get_config());
  EXPECT_EQ(Initializer::from_config("uniform").get_config(),
            Initializer::random_uniform().get_config());
}

TEST(InitializerConfig, OlderConfigsAndKerasNormalizations) {
  // Keras before the fan axes wrote only the seed; the config written back has the axes.
  const Initializer glorot =
      Initializer::from_config(keras_initializer("GlorotUniform", {{"seed", 4}}));
  EXPECT_EQ(glorot.get_config()["config"],
            (Config{{"seed", 4}, {"input_axes", nullptr}, {"output_axes", nullptr}}));
  // VarianceScaling lowercases `distribution` and maps "normal" to "truncated_normal".
  const Initializer scaling = Initializer::from_config(
      keras_initializer("VarianceScaling", {{"distribution", "Normal"}, {"mode", "fan_avg"}}));
  EXPECT_EQ(scaling.get_config()["config"]["distribution"], "truncated_normal");
  EXPECT_EQ(Initializer::variance_scaling(1.0, "fan_in", "UNIFORM")
                .get_config()["config"]["distribution"],
            "uniform");
  // A config without a "config" member takes the defaults.
  EXPECT_EQ(Initializer::from_config(Config{{"class_name", "HeUniform"}}).get_config(),
            Initializer::he_uniform().get_config());
}

TEST(InitializerErrors, VarianceScalingArgumentsAreCheckedLikeKeras) {
  expect_error([] { Initializer::variance_scaling(0.0); },
               "VarianceScaling: invalid `scale`. Expected a positive float. Received: "
               "scale=0.0.");
  expect_error(
      [] {
        Initializer::from_config(keras_initializer("VarianceScaling", {{"scale", -1}}));
      },
      "VarianceScaling: invalid `scale`. Expected a positive float. Received: scale=-1.");
  expect_error([] { Initializer::variance_scaling(1.0, "fan_sum"); },
               "VarianceScaling: invalid `mode`. Expected one of fan_in, fan_out, fan_avg. "
               "Received: mode=fan_sum.");
  expect_error([] { Initializer::variance_scaling(1.0, "fan_in", "Gaussian"); },
               "VarianceScaling: invalid `distribution`. Expected one of truncated_normal, "
               "untruncated_normal, uniform. Received: distribution=gaussian.");
}

TEST(InitializerErrors, ConfigMistakesNameTheKey) {
  expect_error(
      [] {
        Initializer::from_config(
            keras_initializer("RandomNormal", {{"mean", 0.0}, {"sigma", 1.0}}));
      },
      "RandomNormal: unrecognized keyword arguments in the config. Expected only the keys of "
      "RandomNormal.get_config(). Received: {'sigma': 1.0}.");
  expect_error(
      [] {
        Initializer::from_config(keras_initializer("RandomNormal", {{"stddev", "big"}}));
      },
      "RandomNormal: invalid config value for `stddev`. Expected a number. Received: "
      "stddev=\"big\".");
  expect_error(
      [] {
        Initializer::from_config(keras_initializer("GlorotUniform", {{"seed", 1.5}}));
      },
      "GlorotUniform: invalid config value for `seed`. Expected an integer or null. Received: "
      "seed=1.5.");
  expect_error(
      [] {
        Initializer::from_config(keras_initializer("VarianceScaling", {{"mode", 3}}));
      },
      "VarianceScaling: invalid config value for `mode`. Expected a string. Received: mode=3.");
  expect_error([] { Initializer::from_config(3); },
               "Initializer: invalid initializer config. Expected a name string or an object "
               "with a `class_name`. Received: initializer=3.");
}

TEST(InitializerErrors, UnsupportedClassesAndArgumentsAreRefusedByName) {
  expect_error<NotSupportedError>(
      [] { Initializer::from_config("STFTInitializer"); },
      "Initializer: unsupported initializer. Expected one of Zeros, Ones, Constant, "
      "Identity, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, "
      "GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, "
      "Orthogonal. Received: initializer=STFTInitializer.");
  expect_error<NotSupportedError>(
      [] {
        Initializer::from_config(keras_initializer("GlorotUniform", {{"input_axes", {0}}}));
      },
      "GlorotUniform: unsupported argument. Expected input_axes=None. Received: "
      "input_axes=[0].");
  expect_error<NotSupportedError>(
      [] {
        Initializer::from_config(keras_initializer(
            "HeNormal", {{"seed", {{"module", "keras.random"}, {"class_name", "SeedGenerator"}}}}));
      },
      "HeNormal: unsupported seed. Expected an integer or null (a SeedGenerator is not "
      "supported). Received: seed={\"class_name\":\"SeedGenerator\",\"module\":\"keras.random\"}.");
}

TEST(InitializerErrors, ShapesOfTheWrongRank) {
  expect_error([] { Initializer::orthogonal()({5}); },
               "Orthogonal: the tensor to initialize must be at least two-dimensional. Expected "
               "a shape of rank >= 2. Received: shape=(5,) of rank 1.");
  expect_error(
      [] {
        Initializer::identity()({2, 2, 2});
      },
      "Identity: the identity initializer can only be used for 2D matrices. Expected a "
      "shape of rank 2. Received: shape=(2, 2, 2) of rank 3.");
}

}  // namespace
}  // namespace kattn
