#include "kattn/core/initializers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>
#include <random>
#include <string_view>
#include <vector>

#include "kattn/core/error.hpp"
#include "kattn/core/random.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kInitializer{"Initializer", ""};
constexpr const char* kSupported =
    "one of Zeros, Ones, Constant, Identity, RandomNormal, RandomUniform, TruncatedNormal, "
    "VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, "
    "LecunNormal, Orthogonal";

// keras.initializers.ALL_OBJECTS_DICT: every class under its own name and its snake_case name,
// plus Keras's aliases ("uniform", "normal", "one", "zero", "OrthogonalInitializer").
struct ClassName {
  std::string_view name;
  std::string_view class_name;
};
constexpr ClassName kClassNames[] = {
    {"Zeros", "Zeros"},
    {"zeros", "Zeros"},
    {"zero", "Zeros"},
    {"Ones", "Ones"},
    {"ones", "Ones"},
    {"one", "Ones"},
    {"Constant", "Constant"},
    {"constant", "Constant"},
    {"Identity", "Identity"},
    {"identity", "Identity"},
    {"IdentityInitializer", "Identity"},
    {"identity_initializer", "Identity"},
    {"RandomNormal", "RandomNormal"},
    {"random_normal", "RandomNormal"},
    {"normal", "RandomNormal"},
    {"RandomUniform", "RandomUniform"},
    {"random_uniform", "RandomUniform"},
    {"uniform", "RandomUniform"},
    {"TruncatedNormal", "TruncatedNormal"},
    {"truncated_normal", "TruncatedNormal"},
    {"VarianceScaling", "VarianceScaling"},
    {"variance_scaling", "VarianceScaling"},
    {"GlorotUniform", "GlorotUniform"},
    {"glorot_uniform", "GlorotUniform"},
    {"GlorotNormal", "GlorotNormal"},
    {"glorot_normal", "GlorotNormal"},
    {"HeUniform", "HeUniform"},
    {"he_uniform", "HeUniform"},
    {"HeNormal", "HeNormal"},
    {"he_normal", "HeNormal"},
    {"LecunUniform", "LecunUniform"},
    {"lecun_uniform", "LecunUniform"},
    {"LecunNormal", "LecunNormal"},
    {"lecun_normal", "LecunNormal"},
    {"Orthogonal", "Orthogonal"},
    {"orthogonal", "Orthogonal"},
    {"OrthogonalInitializer", "Orthogonal"},
    {"orthogonal_initializer", "Orthogonal"},
};

std::string canonical_class(const std::string& name) {
  for (const ClassName& entry : kClassNames) {
    if (entry.name == name) return std::string(entry.class_name);
  }
  throw NotSupportedError(
      error_message(kInitializer, "unsupported initializer", kSupported, "initializer=" + name));
}

// The VarianceScaling subclasses of keras/src/initializers/random_initializers.py, each with the
// arguments its __init__ passes to VarianceScaling.
struct VarianceScalingPreset {
  std::string_view class_name;
  double scale;
  std::string_view mode;
  std::string_view distribution;
};
constexpr VarianceScalingPreset kPresets[] = {
    {"GlorotUniform", 1.0, "fan_avg", "uniform"},
    {"GlorotNormal", 1.0, "fan_avg", "truncated_normal"},
    {"HeUniform", 2.0, "fan_in", "uniform"},
    {"HeNormal", 2.0, "fan_in", "truncated_normal"},
    {"LecunUniform", 1.0, "fan_in", "uniform"},
    {"LecunNormal", 1.0, "fan_in", "truncated_normal"},
};

const VarianceScalingPreset* find_preset(std::string_view class_name) {
  for (const VarianceScalingPreset& preset : kPresets) {
    if (preset.class_name == class_name) return &preset;
  }
  return nullptr;
}

Config seed_config(std::optional<int64_t> seed) { return seed ? Config(*seed) : Config(nullptr); }

// Keras's RandomInitializer takes an integer, None, or a serialized SeedGenerator; the last is
// refused by name.
std::optional<int64_t> read_seed(ConfigReader& reader, Config& out) {
  const Config seed = reader.get("seed", nullptr);
  if (seed.is_object()) {
    throw NotSupportedError(error_message(reader.source(), "unsupported seed",
                                          "an integer or null (a SeedGenerator is not supported)",
                                          "seed=" + seed.dump()));
  }
  if (!seed.is_null() && !seed.is_number_integer()) reader.fail("seed", "an integer or null");
  out["seed"] = seed;
  return seed.is_null() ? std::nullopt : std::optional<int64_t>(seed.get<int64_t>());
}

// The number at `key` (or `fallback`), copied into `out` as it was written, so that get_config
// gives back 2 for 2 and 2.0 for 2.0 as Keras does.
double read_number(ConfigReader& reader, Config& out, const char* key, double fallback) {
  const Config value = reader.get(key, fallback);
  if (!value.is_number()) reader.fail(key, "a number");
  out[key] = value;
  return value.get<double>();
}

// Keras 3.16's VarianceScaling can take the fans along given kernel axes (`input_axes`,
// `output_axes`); only the default, compute_fans on the shape, is implemented here.
void read_fan_axes(ConfigReader& reader, Config& out) {
  for (const char* key : {"input_axes", "output_axes"}) {
    const Config axes = reader.get(key, nullptr);
    if (!axes.is_null()) {
      throw NotSupportedError(error_message(reader.source(), "unsupported argument",
                                            std::string(key) + "=None",
                                            std::string(key) + "=" + axes.dump()));
    }
    out[key] = nullptr;
  }
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Uniform and normal numbers from std::mt19937_64 through transforms written here:
// std::uniform_real_distribution and std::normal_distribution are implementation-defined, and a
// seed should give the same weights whichever standard library kattn is built with.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), from the top 53 bits of one draw.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Standard normal by Box-Muller, two values per pair of uniforms.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    const double angle = 2.0 * std::numbers::pi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  // keras.random.truncated_normal: values more than two standard deviations from the mean are
  // discarded and redrawn.
  double truncated_normal() {
    double z = normal();
    while (std::fabs(z) > 2.0) z = normal();
    return z;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Householder QR of the m x n row-major matrix `a` (m >= n): returns the n columns of Q in an
// m x n row-major matrix and writes diag(R) into `r_diag`. Keras multiplies Q by sign(diag(R)),
// which makes the result independent of the sign convention of the factorization.
std::vector<double> householder_q(std::vector<double> a, int64_t m, int64_t n,
                                  std::vector<double>& r_diag) {
  const auto at = [n](int64_t row, int64_t col) { return static_cast<size_t>(row * n + col); };
  std::vector<double> reflectors(a.size(), 0.0);  // reflector k in column k, rows k..m-1
  std::vector<double> betas(static_cast<size_t>(n), 0.0);
  std::vector<double> dots(static_cast<size_t>(n), 0.0);
  r_diag.assign(static_cast<size_t>(n), 0.0);
  for (int64_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) norm2 += a[at(i, k)] * a[at(i, k)];
    if (norm2 == 0.0) continue;  // a zero column: no reflection, R[k][k] = 0
    const double norm = std::sqrt(norm2);
    // alpha of the sign opposite to a[k][k] avoids cancellation in v = x - alpha e1.
    const double alpha = a[at(k, k)] > 0.0 ? -norm : norm;
    double v_norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) {
      const double v = a[at(i, k)] - (i == k ? alpha : 0.0);
      reflectors[at(i, k)] = v;
      v_norm2 += v * v;
    }
    const double beta = 2.0 / v_norm2;
    betas[static_cast<size_t>(k)] = beta;
    // A[k:, k:] -= beta v (v^T A[k:, k:]), row by row for contiguous access.
    std::fill(dots.begin() + k, dots.end(), 0.0);
    for (int64_t i = k; i < m; ++i) {
      const double v = reflectors[at(i, k)];
      for (int64_t j = k; j < n; ++j) dots[static_cast<size_t>(j)] += v * a[at(i, j)];
    }
    for (int64_t i = k; i < m; ++i) {
      const double v = beta * reflectors[at(i, k)];
      for (int64_t j = k; j < n; ++j) a[at(i, j)] -= v * dots[static_cast<size_t>(j)];
    }
    r_diag[static_cast<size_t>(k)] = a[at(k, k)];
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity, last reflector first.
  std::vector<double> q(a.size(), 0.0);
  for (int64_t i = 0; i < n; ++i) q[at(i, i)] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    const double beta = betas[static_cast<size_t>(k)];
    if (beta == 0.0) continue;
    std::fill(dots.begin(), dots.end(), 0.0);
    for (int64_t i = k; i < m; ++i) {
      const double v = reflectors[at(i, k)];
      for (int64_t j = 0; j < n; ++j) dots[static_cast<size_t>(j)] += v * q[at(i, j)];
    }
    for (int64_t i = k; i < m; ++i) {
      const double v = beta * reflectors[at(i, k)];
      for (int64_t j = 0; j < n; ++j) q[at(i, j)] -= v * dots[static_cast<size_t>(j)];
    }
  }
  return q;
}

double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }

// Orthogonal.__call__: a normal (max(rows, cols), min(rows, cols)) matrix, Q of its QR times
// sign(diag(R)), transposed when the matrix is wide, times gain.
Tensor orthogonal_values(const Shape& shape, double gain, Random& random) {
  Tensor values(shape);
  int64_t rows = 1;
  for (size_t axis = 0; axis + 1 < shape.size(); ++axis) rows *= shape[axis];
  const int64_t cols = shape.back();
  if (rows == 0 || cols == 0) return values;
  const int64_t m = std::max(rows, cols);
  const int64_t n = std::min(rows, cols);
  std::vector<double> a(static_cast<size_t>(m * n));
  for (double& x : a) x = random.normal();
  std::vector<double> r_diag;
  const std::vector<double> q = householder_q(std::move(a), m, n, r_diag);
  float* out = values.data();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double v =
          gain * q[static_cast<size_t>(i * n + j)] * sign(r_diag[static_cast<size_t>(j)]);
      // Tall: out is Q (rows = m, cols = n); wide: out is Q^T (rows = n, cols = m).
      const int64_t index = rows >= cols ? i * n + j : j * m + i;
      out[index] = static_cast<float>(v);
    }
  }
  return values;
}

}  // namespace

Fans compute_fans(const Shape& shape) {
  if (shape.empty()) return {1.0, 1.0};
  if (shape.size() == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  double receptive = 1.0;
  for (size_t axis = 0; axis + 2 < shape.size(); ++axis) {
    receptive *= static_cast<double>(shape[axis]);
  }
  return {static_cast<double>(shape[shape.size() - 2]) * receptive,
          static_cast<double>(shape.back()) * receptive};
}

Initializer Initializer::parse(const std::string& class_name, const Config& inner) {
  Initializer init;
  init.class_name_ = class_name;
  ConfigReader reader(inner, ErrorSource{class_name, ""});
  Config& out = init.config_;
  if (class_name == "Zeros" || class_name == "Ones") {
    init.kind_ = Kind::kConstant;
    init.value_ = class_name == "Ones" ? 1.0 : 0.0;
  } else if (class_name == "Constant") {
    init.kind_ = Kind::kConstant;
    init.value_ = read_number(reader, out, "value", 0.0);
  } else if (class_name == "Identity") {
    init.kind_ = Kind::kIdentity;
    init.gain_ = read_number(reader, out, "gain", 1.0);
  } else if (class_name == "RandomNormal" || class_name == "TruncatedNormal") {
    init.kind_ = class_name == "RandomNormal" ? Kind::kRandomNormal : Kind::kTruncatedNormal;
    init.seed_ = read_seed(reader, out);
    init.mean_ = read_number(reader, out, "mean", 0.0);
    init.stddev_ = read_number(reader, out, "stddev", 0.05);
  } else if (class_name == "RandomUniform") {
    init.kind_ = Kind::kRandomUniform;
    init.seed_ = read_seed(reader, out);
    init.minval_ = read_number(reader, out, "minval", -0.05);
    init.maxval_ = read_number(reader, out, "maxval", 0.05);
  } else if (class_name == "Orthogonal") {
    init.kind_ = Kind::kOrthogonal;
    init.seed_ = read_seed(reader, out);
    init.gain_ = read_number(reader, out, "gain", 1.0);
  } else {
    // VarianceScaling itself, or one of its subclasses, whose get_config writes only the seed
    // and the fan axes.
    init.kind_ = Kind::kVarianceScaling;
    init.seed_ = read_seed(reader, out);
    read_fan_axes(reader, out);
    const VarianceScalingPreset* preset = find_preset(class_name);
    std::string mode;
    std::string distribution;
    if (preset != nullptr) {
      init.scale_ = preset->scale;
      mode = preset->mode;
      distribution = preset->distribution;
    } else {
      const Config scale = reader.get("scale", 1.0);
      if (!scale.is_number()) reader.fail("scale", "a number");
      init.scale_ = scale.get<double>();
      // VarianceScaling.__init__'s checks, in its order.
      if (!(init.scale_ > 0.0)) {
        throw_value_error(reader.source(), "invalid `scale`", "a positive float",
                          "scale=" + scale.dump());
      }
      mode = reader.get_string("mode", "fan_in");
      if (mode != "fan_in" && mode != "fan_out" && mode != "fan_avg") {
        throw_value_error(reader.source(), "invalid `mode`", "one of fan_in, fan_out, fan_avg",
                          "mode=" + mode);
      }
      distribution = lowercase(reader.get_string("distribution", "truncated_normal"));
      if (distribution == "normal") distribution = "truncated_normal";
      if (distribution != "truncated_normal" && distribution != "untruncated_normal" &&
          distribution != "uniform") {
        throw_value_error(reader.source(), "invalid `distribution`",
                          "one of truncated_normal, untruncated_normal, uniform",
                          "distribution=" + distribution);
      }
      out["scale"] = scale;
      out["mode"] = mode;
      out["distribution"] = distribution;
    }
    init.mode_ = mode == "fan_in" ? FanMode::kFanIn
                                  : (mode == "fan_out" ? FanMode::kFanOut : FanMode::kFanAvg);
    init.distribution_ = distribution == "uniform" ? Distribution::kUniform
                                                   : (distribution == "untruncated_normal"
                                                          ? Distribution::kUntruncatedNormal
                                                          : Distribution::kTruncatedNormal);
  }
  reader.check_all_read();
  return init;
}

Initializer Initializer::zeros() { return parse("Zeros", Config::object()); }
Initializer Initializer::ones() { return parse("Ones", Config::object()); }
Initializer Initializer::constant(double value) { return parse("Constant", {{"value", value}}); }
Initializer Initializer::identity(double gain) { return parse("Identity", {{"gain", gain}}); }

Initializer Initializer::random_normal(double mean, double stddev, std::optional<int64_t> seed) {
  return parse("RandomNormal", {{"mean", mean}, {"stddev", stddev}, {"seed", seed_config(seed)}});
}

Initializer Initializer::random_uniform(double minval, double maxval, std::optional<int64_t> seed) {
  return parse("RandomUniform",
               {{"minval", minval}, {"maxval", maxval}, {"seed", seed_config(seed)}});
}

Initializer Initializer::truncated_normal(double mean, double stddev, std::optional<int64_t> seed) {
  return parse("TruncatedNormal",
               {{"mean", mean}, {"stddev", stddev}, {"seed", seed_config(seed)}});
}

Initializer Initializer::variance_scaling(double scale, const std::string& mode,
                                          const std::string& distribution,
                                          std::optional<int64_t> seed) {
  return parse("VarianceScaling", {{"scale", scale},
                                   {"mode", mode},
                                   {"distribution", distribution},
                                   {"seed", seed_config(seed)}});
}

Initializer Initializer::glorot_uniform(std::optional<int64_t> seed) {
  return parse("GlorotUniform", {{"seed", seed_config(seed)}});
}
Initializer Initializer::glorot_normal(std::optional<int64_t> seed) {
  return parse("GlorotNormal", {{"seed", seed_config(seed)}});
}
Initializer Initializer::he_uniform(std::optional<int64_t> seed) {
  return parse("HeUniform", {{"seed", seed_config(seed)}});
}
Initializer Initializer::he_normal(std::optional<int64_t> seed) {
  return parse("HeNormal", {{"seed", seed_config(seed)}});
}
Initializer Initializer::lecun_uniform(std::optional<int64_t> seed) {
  return parse("LecunUniform", {{"seed", seed_config(seed)}});
}
Initializer Initializer::lecun_normal(std::optional<int64_t> seed) {
  return parse("LecunNormal", {{"seed", seed_config(seed)}});
}

Initializer Initializer::orthogonal(double gain, std::optional<int64_t> seed) {
  return parse("Orthogonal", {{"gain", gain}, {"seed", seed_config(seed)}});
}

Initializer Initializer::from_config(const Config& config) {
  // A name is the class with its default arguments (keras.initializers.get).
  if (config.is_string())
    return parse(canonical_class(config.get<std::string>()), Config::object());
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    throw ValueError(error_message(kInitializer, "invalid initializer config",
                                   "a name string or an object with a `class_name`",
                                   "initializer=" + config.dump()));
  }
  const std::string class_name = canonical_class(config["class_name"].get<std::string>());
  return parse(class_name, config.contains("config") ? config["config"] : Config::object());
}

Config Initializer::get_config() const {
  return {{"module", "keras.initializers"},
          {"class_name", class_name_},
          {"config", config_},
          {"registered_name", nullptr}};
}

Tensor Initializer::operator()(const Shape& shape) const {
  const ErrorSource source{class_name_, ""};
  if (kind_ == Kind::kConstant) return Tensor::full(shape, static_cast<float>(value_));
  if (kind_ == Kind::kIdentity) {
    // Identity.__call__: gain * eye(rows, cols), 2-D only.
    if (shape.size() != 2) {
      throw_value_error(
          source, "the identity initializer can only be used for 2D matrices", "a shape of rank 2",
          "shape=" + shape_to_string(shape) + " of rank " + std::to_string(shape.size()));
    }
    Tensor values(shape);
    for (int64_t i = 0; i < std::min(shape[0], shape[1]); ++i) {
      values(i, i) = static_cast<float>(gain_);
    }
    return values;
  }
  if (kind_ == Kind::kOrthogonal && shape.size() < 2) {
    throw_value_error(
        source, "the tensor to initialize must be at least two-dimensional", "a shape of rank >= 2",
        "shape=" + shape_to_string(shape) + " of rank " + std::to_string(shape.size()));
  }
  Random random(seed_ ? static_cast<uint64_t>(*seed_) : draw_seed());
  if (kind_ == Kind::kOrthogonal) return orthogonal_values(shape, gain_, random);

  Tensor values(shape);
  float* out = values.data();
  const int64_t size = values.size();
  const auto fill = [&](auto draw) {
    for (int64_t i = 0; i < size; ++i) out[i] = static_cast<float>(draw());
  };
  switch (kind_) {
    case Kind::kRandomNormal:
      fill([&] { return mean_ + stddev_ * random.normal(); });
      break;
    case Kind::kTruncatedNormal:
      fill([&] { return mean_ + stddev_ * random.truncated_normal(); });
      break;
    case Kind::kRandomUniform:
      fill([&] { return minval_ + (maxval_ - minval_) * random.uniform(); });
      break;
    case Kind::kVarianceScaling: {
      // VarianceScaling.__call__.
      const Fans fans = compute_fans(shape);
      double scale = scale_;
      if (mode_ == FanMode::kFanIn) {
        scale /= std::max(1.0, fans.fan_in);
      } else if (mode_ == FanMode::kFanOut) {
        scale /= std::max(1.0, fans.fan_out);
      } else {
        scale /= std::max(1.0, (fans.fan_in + fans.fan_out) / 2.0);
      }
      if (distribution_ == Distribution::kTruncatedNormal) {
        // The stddev of a unit normal truncated at two stddev is 0.87962566103423978: dividing
        // by it makes the variance of the truncated values `scale`.
        const double stddev = std::sqrt(scale) / 0.87962566103423978;
        fill([&] { return stddev * random.truncated_normal(); });
      } else if (distribution_ == Distribution::kUntruncatedNormal) {
        const double stddev = std::sqrt(scale);
        fill([&] { return stddev * random.normal(); });
      } else {
        const double limit = std::sqrt(3.0 * scale);
        fill([&] { return -limit + 2.0 * limit * random.uniform(); });
      }
      break;
    }
    default:
      break;
  }
  return values;
}

}  // namespace kattn
