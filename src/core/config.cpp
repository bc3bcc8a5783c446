#include "kattn/core/config.hpp"

#include <cctype>
#include <cmath>

namespace kattn {

ConfigReader::ConfigReader(const Config& config, ErrorSource source)
    : config_(config), class_name_(source.class_name), name_(source.name) {
  if (!config_.is_object()) {
    throw ValueError(error_message(source, "invalid config", "a JSON object",
                                   std::string("config of type ") + config_.type_name()));
  }
}

bool ConfigReader::has(std::string_view key) const { return config_.contains(key); }

void ConfigReader::fail(std::string_view key, std::string_view expected) const {
  const auto it = config_.find(key);
  const std::string value = it == config_.end() ? "missing" : it->dump();
  throw ValueError(error_message(source(), "invalid config value for `" + std::string(key) + "`",
                                 expected, std::string(key) + "=" + value));
}

Config ConfigReader::get(std::string_view key, const Config& fallback) {
  read_.emplace(key);
  const auto it = config_.find(key);
  return it == config_.end() ? fallback : *it;
}

bool ConfigReader::get_bool(std::string_view key, bool fallback) {
  const Config value = get(key, fallback);
  if (!value.is_boolean()) fail(key, "a boolean");
  return value.get<bool>();
}

double ConfigReader::get_number(std::string_view key, double fallback) {
  const Config value = get(key, fallback);
  if (!value.is_number()) fail(key, "a number");
  return value.get<double>();
}

int64_t ConfigReader::get_int(std::string_view key, int64_t fallback) {
  const Config value = get(key, fallback);
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15) {
      return static_cast<int64_t>(number);
    }
  }
  fail(key, "an integer");
}

std::string ConfigReader::get_string(std::string_view key, std::string_view fallback) {
  const Config value = get(key, std::string(fallback));
  if (!value.is_string()) fail(key, "a string");
  return value.get<std::string>();
}

void ConfigReader::check_all_read() const {
  std::string unknown;
  for (const auto& [key, value] : config_.items()) {
    if (read_.find(key) == read_.end()) {
      unknown += (unknown.empty() ? "" : ", ") + ("'" + key + "': " + value.dump());
    }
  }
  if (!unknown.empty()) {
    throw ValueError(
        error_message(source(), "unrecognized keyword arguments in the config",
                      "only the keys of " + std::string(source().class_name) + ".get_config()",
                      "{" + unknown + "}"));
  }
}

namespace {

// The dtype policy name inside a `dtype` config entry: "float32" or a DTypePolicy object.
std::string dtype_policy_name(const Config& dtype) {
  if (dtype.is_string()) return dtype.get<std::string>();
  if (dtype.is_object() && dtype.value("class_name", "") == "DTypePolicy" &&
      dtype.contains("config") && dtype["config"].is_object() &&
      dtype["config"].value("name", Config()).is_string()) {
    return dtype["config"]["name"].get<std::string>();
  }
  return dtype.dump();
}

}  // namespace

Config config_member(const Config& config, std::string_view key) {
  if (!config.is_object()) return Config();
  const auto it = config.find(key);
  return it == config.end() ? Config() : *it;
}

std::string config_string(const Config& config, std::string_view key) {
  const Config value = config_member(config, key);
  return value.is_string() ? value.get<std::string>() : "";
}

std::string config_layer_name(const Config& config) { return config_string(config, "name"); }

void read_float32_dtype(ConfigReader& reader) {
  const Config dtype = reader.get("dtype", "float32");
  if (dtype.is_null()) return;
  const std::string policy = dtype_policy_name(dtype);
  if (policy != "float32") {
    throw NotSupportedError(error_message(reader.source(), "unsupported dtype policy",
                                          "one of the supported policies: float32",
                                          "dtype=" + policy));
  }
}

void check_operation_name(ErrorSource source, std::string_view name) {
  if (name.find('/') != std::string_view::npos) {
    throw_value_error(source, "invalid `name`", "a name without the character `/`",
                      "name=" + std::string(name));
  }
}

LayerArgs read_layer_args(ConfigReader& reader, std::string_view default_name) {
  LayerArgs args;
  args.name = reader.get_string("name", default_name);
  args.trainable = reader.get_bool("trainable", true);
  read_float32_dtype(reader);
  return args;
}

Config layer_args_config(const LayerArgs& args) {
  return Config{{"name", args.name},
                {"trainable", args.trainable},
                {"dtype",
                 {{"module", "keras"},
                  {"class_name", "DTypePolicy"},
                  {"config", {{"name", "float32"}}},
                  {"registered_name", nullptr}}}};
}

std::string to_snake_case(std::string_view class_name) {
  // keras.src.utils.naming.to_snake_case: drop non-word characters, then
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2") and re.sub("([a-z])([A-Z])", r"\1_\2"). Together the two
  // put an underscore before every capital (not the first character) that is followed or
  // preceded by a lowercase letter.
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  const auto is_lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string name;
  for (char c : class_name) {
    if (is_word(c)) name += c;
  }
  std::string snake;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0 &&
        (is_lower(name[i - 1]) || (i + 1 < name.size() && is_lower(name[i + 1])))) {
      snake += '_';
    }
    snake += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return snake;
}

std::string layer_snake_name(std::string_view class_name) {
  return to_snake_case(class_name == "GroupQueryAttention" ? "GroupedQueryAttention" : class_name);
}

}  // namespace kattn
