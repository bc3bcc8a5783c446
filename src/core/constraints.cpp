#include "kattn/core/constraints.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "core/strided.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

using detail::for_each_offset;

namespace {

constexpr ErrorSource kConstraint{"Constraint", ""};
constexpr const char* kSupported = "one of MaxNorm, NonNeg, UnitNorm, MinMaxNorm";
// keras.backend.epsilon(), the fuzz factor of the norm constraints.
constexpr double kEpsilon = 1e-7;

// keras.constraints.ALL_OBJECTS_DICT: each class under its name and its snake_case name.
std::string canonical_class(const std::string& name) {
  if (name == "MaxNorm" || name == "max_norm") return "MaxNorm";
  if (name == "NonNeg" || name == "non_neg") return "NonNeg";
  if (name == "UnitNorm" || name == "unit_norm") return "UnitNorm";
  if (name == "MinMaxNorm" || name == "min_max_norm") return "MinMaxNorm";
  throw NotSupportedError(
      error_message(kConstraint, "unsupported constraint", kSupported, "constraint=" + name));
}

// The number at `key` (or `fallback`), copied into `out` as it was written.
double read_number(ConfigReader& reader, Config& out, const char* key, const Config& fallback) {
  const Config value = reader.get(key, fallback);
  if (!value.is_number()) reader.fail(key, "a number");
  out[key] = value;
  return value.get<double>();
}

ConstraintAxis read_axis(ConfigReader& reader, Config& out) {
  const Config value = reader.get("axis", 0);
  out["axis"] = value;
  if (value.is_null()) return ConstraintAxis::all();
  if (value.is_number_integer()) return ConstraintAxis(value.get<int64_t>());
  if (value.is_array()) {
    std::vector<int64_t> axes;
    for (const Config& axis : value) {
      if (!axis.is_number_integer()) break;
      axes.push_back(axis.get<int64_t>());
    }
    if (axes.size() == value.size()) return ConstraintAxis(std::move(axes));
  }
  reader.fail("axis", "an integer, a list of integers or null");
}

}  // namespace

Config ConstraintAxis::to_config() const {
  if (is_all_) return Config(nullptr);
  if (!is_list_) return Config(axes_.front());
  return Config(axes_);
}

Constraint Constraint::parse(const std::string& class_name, const Config& inner) {
  Constraint constraint;
  constraint.class_name_ = class_name;
  ConfigReader reader(inner, ErrorSource{class_name, ""});
  Config& out = constraint.config_;
  // Keras checks none of these numbers; a max_value below min_value clips to max_value, as
  // ops.clip does.
  if (class_name == "MaxNorm") {
    constraint.kind_ = Kind::kMaxNorm;
    constraint.max_value_ = read_number(reader, out, "max_value", 2);
    constraint.axis_ = read_axis(reader, out);
  } else if (class_name == "UnitNorm") {
    constraint.kind_ = Kind::kUnitNorm;
    constraint.axis_ = read_axis(reader, out);
  } else if (class_name == "MinMaxNorm") {
    constraint.kind_ = Kind::kMinMaxNorm;
    constraint.min_value_ = read_number(reader, out, "min_value", 0.0);
    constraint.max_value_ = read_number(reader, out, "max_value", 1.0);
    constraint.rate_ = read_number(reader, out, "rate", 1.0);
    constraint.axis_ = read_axis(reader, out);
  } else {
    constraint.kind_ = Kind::kNonNeg;
  }
  reader.check_all_read();
  return constraint;
}

Constraint Constraint::max_norm(double max_value, ConstraintAxis axis) {
  return parse("MaxNorm", {{"max_value", max_value}, {"axis", axis.to_config()}});
}

Constraint Constraint::non_neg() { return parse("NonNeg", Config::object()); }

Constraint Constraint::unit_norm(ConstraintAxis axis) {
  return parse("UnitNorm", {{"axis", axis.to_config()}});
}

Constraint Constraint::min_max_norm(double min_value, double max_value, double rate,
                                    ConstraintAxis axis) {
  return parse("MinMaxNorm", {{"min_value", min_value},
                              {"max_value", max_value},
                              {"rate", rate},
                              {"axis", axis.to_config()}});
}

std::optional<Constraint> Constraint::from_config(const Config& config) {
  if (config.is_null()) return std::nullopt;
  // A name is the class with its default arguments (keras.constraints.get).
  if (config.is_string())
    return parse(canonical_class(config.get<std::string>()), Config::object());
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    throw ValueError(error_message(kConstraint, "invalid constraint config",
                                   "null, a name string or an object with a `class_name`",
                                   "constraint=" + config.dump()));
  }
  const std::string class_name = canonical_class(config["class_name"].get<std::string>());
  return parse(class_name, config.contains("config") ? config["config"] : Config::object());
}

Config Constraint::get_config() const {
  return {{"module", "keras.constraints"},
          {"class_name", class_name_},
          {"config", config_},
          {"registered_name", nullptr}};
}

Config Constraint::serialize(const std::optional<Constraint>& constraint) {
  return constraint ? constraint->get_config() : Config(nullptr);
}

void Constraint::apply(Tensor& w) const {
  if (kind_ == Kind::kNonNeg) {
    // ops.maximum(w, 0): NaN stays NaN.
    float* data = w.data();
    for_each_offset(w.shape(), w.strides(), [&](int64_t offset) {
      if (data[offset] < 0.0f) data[offset] = 0.0f;
    });
    return;
  }
  // The reduced axes, resolved against w's rank as ops.sum(axis=...) does.
  const int64_t rank = w.rank();
  std::vector<bool> reduced(static_cast<size_t>(rank), axis_.is_all());
  for (const int64_t axis : axis_.axes()) {
    if (axis < -rank || axis >= rank) {
      throw_value_error({class_name_, ""}, "axis out of range",
                        "axes in [" + std::to_string(-rank) + ", " + std::to_string(rank) +
                            ") for a weight of shape " + shape_to_string(w.shape()),
                        "axis=" + axis_.to_config().dump());
    }
    const auto resolved = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    if (reduced[resolved]) {
      throw_value_error({class_name_, ""}, "duplicate axis", "distinct axes",
                        "axis=" + axis_.to_config().dump());
    }
    reduced[resolved] = true;
  }
  // Each element's norm group: its index over the kept axes, in row-major order.
  Shape group_strides(static_cast<size_t>(rank), 0);
  int64_t groups = 1;
  for (size_t axis = static_cast<size_t>(rank); axis-- > 0;) {
    if (reduced[axis]) continue;
    group_strides[axis] = groups;
    groups *= w.shape()[axis];
  }
  const Tensor values = w.contiguous();
  const float* in = values.data();
  // Walking w's shape with the group strides gives each element's group, in row-major order.
  std::vector<int64_t> group_of(static_cast<size_t>(values.size()));
  {
    int64_t i = 0;
    for_each_offset(w.shape(), group_strides,
                    [&](int64_t group) { group_of[static_cast<size_t>(i++)] = group; });
  }
  std::vector<double> sum_squares(static_cast<size_t>(groups), 0.0);
  for (int64_t i = 0; i < values.size(); ++i) {
    const double v = static_cast<double>(in[i]);
    sum_squares[static_cast<size_t>(group_of[static_cast<size_t>(i)])] += v * v;
  }
  std::vector<double> factors(sum_squares.size());
  for (size_t g = 0; g < sum_squares.size(); ++g) {
    const double norm = std::sqrt(sum_squares[g]);
    double desired = norm;  // UnitNorm: w / (epsilon + norms)
    if (kind_ == Kind::kMaxNorm) {
      desired = std::min(std::max(norm, 0.0), max_value_);
    } else if (kind_ == Kind::kMinMaxNorm) {
      desired = rate_ * std::min(std::max(norm, min_value_), max_value_) + (1.0 - rate_) * norm;
    }
    factors[g] = kind_ == Kind::kUnitNorm ? 1.0 / (kEpsilon + norm) : desired / (kEpsilon + norm);
  }
  float* out = w.data();
  int64_t i = 0;
  for_each_offset(w.shape(), w.strides(), [&](int64_t offset) {
    const auto index = static_cast<size_t>(i++);
    const double factor = factors[static_cast<size_t>(group_of[index])];
    out[offset] = static_cast<float>(static_cast<double>(in[index]) * factor);
  });
}

}  // namespace kattn
