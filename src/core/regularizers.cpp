#include "kattn/core/regularizers.hpp"

#include <cmath>
#include <string_view>
#include <vector>

#include "core/strided.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

using detail::for_each_offset;

namespace {

constexpr ErrorSource kRegularizer{"Regularizer", ""};
constexpr const char* kSupported = "one of L1, L2, L1L2";

// keras.regularizers.ALL_OBJECTS_DICT: each class under its name and its snake_case name
// (to_snake_case("L1L2") is "l1l2"). "l1_l2", the name keras.regularizers exports L1L2 under, is
// accepted too, with L1L2's own defaults.
std::string canonical_class(const std::string& name) {
  if (name == "L1" || name == "l1") return "L1";
  if (name == "L2" || name == "l2") return "L2";
  if (name == "L1L2" || name == "l1l2" || name == "l1_l2") return "L1L2";
  throw NotSupportedError(
      error_message(kRegularizer, "unsupported regularizer", kSupported, "regularizer=" + name));
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return Config(value).dump();
}

// Keras's validate_float_arg: a finite number >= 0.
double validate_factor(std::string_view class_name, const char* name, double value) {
  if (!std::isfinite(value) || value < 0.0) {
    throw_value_error({class_name, ""}, "invalid value for argument `" + std::string(name) + "`",
                      "a non-negative float", std::string(name) + "=" + number_text(value));
  }
  return value;
}

// A factor from a config: null takes the default (Keras's `l1 = 0.01 if l1 is None else l1`).
double read_factor(ConfigReader& reader, const char* name, double fallback) {
  const Config value = reader.get(name, nullptr);
  if (value.is_null()) return fallback;
  if (!value.is_number()) {
    throw_value_error(reader.source(), "invalid value for argument `" + std::string(name) + "`",
                      "a non-negative float", std::string(name) + "=" + value.dump());
  }
  return validate_factor(reader.source().class_name, name, value.get<double>());
}

}  // namespace

Regularizer::Regularizer(std::string class_name, double l1, double l2)
    : class_name_(std::move(class_name)),
      l1_(validate_factor(class_name_, "l1", l1)),
      l2_(validate_factor(class_name_, "l2", l2)) {}

Regularizer Regularizer::l1(double l1) { return Regularizer("L1", l1, 0.0); }
Regularizer Regularizer::l2(double l2) { return Regularizer("L2", 0.0, l2); }
Regularizer Regularizer::l1_l2(double l1, double l2) { return Regularizer("L1L2", l1, l2); }

std::optional<Regularizer> Regularizer::from_config(const Config& config) {
  if (config.is_null()) return std::nullopt;
  // A name is the class with its default arguments (keras.regularizers.get).
  if (config.is_string()) return from_config(Config{{"class_name", config}});
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    throw ValueError(error_message(kRegularizer, "invalid regularizer config",
                                   "null, a name string or an object with a `class_name`",
                                   "regularizer=" + config.dump()));
  }
  const std::string class_name = canonical_class(config["class_name"].get<std::string>());
  const Config inner = config.contains("config") ? config["config"] : Config::object();
  ConfigReader reader(inner, ErrorSource{class_name, ""});
  double l1 = 0.0;
  double l2 = 0.0;
  if (class_name == "L1") {
    l1 = read_factor(reader, "l1", 0.01);
  } else if (class_name == "L2") {
    l2 = read_factor(reader, "l2", 0.01);
  } else {
    l1 = read_factor(reader, "l1", 0.0);
    l2 = read_factor(reader, "l2", 0.0);
  }
  reader.check_all_read();
  return Regularizer(class_name, l1, l2);
}

Config Regularizer::get_config() const {
  Config inner = Config::object();
  if (class_name_ != "L2") inner["l1"] = l1_;
  if (class_name_ != "L1") inner["l2"] = l2_;
  return {{"module", "keras.regularizers"},
          {"class_name", class_name_},
          {"config", inner},
          {"registered_name", nullptr}};
}

Config Regularizer::serialize(const std::optional<Regularizer>& regularizer) {
  return regularizer ? regularizer->get_config() : Config(nullptr);
}

double Regularizer::penalty(const Tensor& x) const {
  const Tensor values = x.contiguous();
  const float* data = values.data();
  double sum_abs = 0.0;
  double sum_square = 0.0;
  for (int64_t i = 0; i < values.size(); ++i) {
    const double v = static_cast<double>(data[i]);
    sum_abs += std::fabs(v);
    sum_square += v * v;
  }
  double penalty = 0.0;
  if (l1_ != 0.0) penalty += l1_ * sum_abs;
  if (l2_ != 0.0) penalty += l2_ * sum_square;
  return penalty;
}

void Regularizer::add_gradient(const Tensor& x, Tensor& grad) const {
  if (grad.shape() != x.shape()) {
    throw_value_error({class_name_, ""}, "gradient shape does not match the weight",
                      "grad of shape " + shape_to_string(x.shape()),
                      "grad.shape=" + shape_to_string(grad.shape()));
  }
  const Tensor values = x.contiguous();
  const float* data = values.data();
  float* out = grad.data();
  int64_t i = 0;
  for_each_offset(grad.shape(), grad.strides(), [&](int64_t offset) {
    const double v = static_cast<double>(data[i++]);
    double d = 0.0;
    // d|x|/dx = sign(x), with 0 at 0 like the backends' sign.
    if (l1_ != 0.0) d += l1_ * (v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0));
    if (l2_ != 0.0) d += 2.0 * l2_ * v;
    out[offset] = static_cast<float>(static_cast<double>(out[offset]) + d);
  });
}

}  // namespace kattn
