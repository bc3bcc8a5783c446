#include "kattn/initializers.hpp"

#include <cmath>
#include <random>

#include "kattn/error.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kInitializer{"Initializer", ""};
constexpr const char* kSupported = "one of Zeros, Ones, Constant, GlorotUniform, RandomUniform";

std::string canonical_class(const std::string& name) {
  if (name == "zeros" || name == "Zeros") return "Zeros";
  if (name == "ones" || name == "Ones") return "Ones";
  if (name == "constant" || name == "Constant") return "Constant";
  if (name == "glorot_uniform" || name == "GlorotUniform") return "GlorotUniform";
  // keras.initializers.get also knows RandomUniform as "uniform".
  if (name == "uniform" || name == "random_uniform" || name == "RandomUniform") {
    return "RandomUniform";
  }
  throw NotSupportedError(error_message(kInitializer, "unsupported initializer", kSupported,
                                        "initializer=" + name));
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

Initializer::Initializer(std::string class_name, std::optional<int64_t> seed, double value)
    : class_name_(std::move(class_name)), seed_(seed), value_(value) {}

Initializer Initializer::glorot_uniform(std::optional<int64_t> seed) {
  return Initializer("GlorotUniform", seed, 0.0);
}
Initializer Initializer::zeros() { return Initializer("Zeros", std::nullopt, 0.0); }
Initializer Initializer::ones() { return Initializer("Ones", std::nullopt, 1.0); }
Initializer Initializer::constant(double value) {
  return Initializer("Constant", std::nullopt, value);
}

Initializer Initializer::random_uniform(double minval, double maxval, std::optional<int64_t> seed) {
  Initializer initializer("RandomUniform", seed, 0.0);
  initializer.minval_ = minval;
  initializer.maxval_ = maxval;
  return initializer;
}

Initializer Initializer::from_config(const Config& config) {
  // A name is the class with its default arguments.
  if (config.is_string()) return from_config(Config{{"class_name", config}});
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    throw ValueError(error_message(kInitializer, "invalid initializer config",
                                   "a name string or an object with a `class_name`",
                                   "initializer=" + config.dump()));
  }
  const std::string class_name = canonical_class(config["class_name"].get<std::string>());
  const Config empty = Config::object();
  const Config& inner = config.contains("config") ? config["config"] : empty;
  ConfigReader reader(inner, ErrorSource{class_name, ""});
  const auto read_seed = [&]() -> std::optional<int64_t> {
    const Config seed = reader.get("seed", nullptr);
    if (!seed.is_null() && !seed.is_number_integer()) reader.fail("seed", "an integer or null");
    return seed.is_null() ? std::nullopt : std::optional<int64_t>(seed.get<int64_t>());
  };
  if (class_name == "GlorotUniform") {
    const std::optional<int64_t> seed = read_seed();
    for (const char* axes : {"input_axes", "output_axes"}) {
      if (!reader.get(axes, nullptr).is_null()) {
        throw NotSupportedError(error_message({class_name, ""}, "unsupported argument",
                                              std::string(axes) + "=None",
                                              std::string(axes) + "=" + inner[axes].dump()));
      }
    }
    reader.check_all_read();
    return glorot_uniform(seed);
  }
  if (class_name == "RandomUniform") {
    const std::optional<int64_t> seed = read_seed();
    const double minval = reader.get_number("minval", -0.05);
    const double maxval = reader.get_number("maxval", 0.05);
    reader.check_all_read();
    return random_uniform(minval, maxval, seed);
  }
  if (class_name == "Constant") {
    const double value = reader.get_number("value", 0.0);
    reader.check_all_read();
    return constant(value);
  }
  reader.check_all_read();
  return class_name == "Ones" ? ones() : zeros();
}

Config Initializer::get_config() const {
  Config inner = Config::object();
  if (class_name_ == "GlorotUniform") {
    inner = {{"seed", seed_ ? Config(*seed_) : Config(nullptr)},
             {"input_axes", nullptr},
             {"output_axes", nullptr}};
  } else if (class_name_ == "RandomUniform") {
    inner = {{"seed", seed_ ? Config(*seed_) : Config(nullptr)},
             {"minval", minval_},
             {"maxval", maxval_}};
  } else if (class_name_ == "Constant") {
    inner = {{"value", value_}};
  }
  return {{"module", "keras.initializers"},
          {"class_name", class_name_},
          {"config", inner},
          {"registered_name", nullptr}};
}

Tensor Initializer::operator()(const Shape& shape) const {
  if (class_name_ != "GlorotUniform" && class_name_ != "RandomUniform") {
    return Tensor::full(shape, static_cast<float>(value_));
  }
  double low = minval_;
  double high = maxval_;
  if (class_name_ == "GlorotUniform") {
    // VarianceScaling(scale=1, mode="fan_avg", distribution="uniform").
    const Fans fans = compute_fans(shape);
    high = std::sqrt(3.0 / std::max(1.0, (fans.fan_in + fans.fan_out) / 2.0));
    low = -high;
  }
  std::mt19937_64 engine(seed_ ? static_cast<uint64_t>(*seed_) : std::random_device{}());
  std::uniform_real_distribution<double> distribution(low, high);
  Tensor values(shape);
  float* out = values.data();
  for (int64_t i = 0; i < values.size(); ++i) out[i] = static_cast<float>(distribution(engine));
  return values;
}

}  // namespace kattn
