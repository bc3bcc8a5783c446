// What the keras.ops functions recorded in model graphs share (Add, NotEqual, ExpandDims, ...):
// a class name, its module ("keras.src.ops.numpy", "keras.src.ops.core"), a name, no weights,
// and outputs that never carry a Keras mask.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/node_inputs.hpp"
#include "core/operation_entry.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/operation.hpp"

namespace kattn::detail {

inline const std::string kNumpyOps = "keras.src.ops.numpy";
inline const std::string kCoreOps = "keras.src.ops.core";

class KerasOp : public Operation {
 public:
  KerasOp(std::string class_name, std::string module, std::string name)
      : Operation(std::move(class_name), std::move(name)), module_(std::move(module)) {}

  std::string module() const override { return module_; }
  Config get_config() const override { return Config{{"name", name()}}; }

 protected:
  ErrorSource source() const { return {class_name(), name()}; }

 private:
  std::string module_;
};

// Reads the `name` of an op config; `extra` reads the op's own keys.
template <typename Body>
std::string read_op_config(const Config& config, const std::string& class_name, Body&& extra) {
  const std::string display_name = config_layer_name(config);
  ConfigReader reader(config, {class_name, display_name});
  const std::string name = reader.get_string("name", to_snake_case(class_name));
  extra(reader);
  reader.check_all_read();
  return name;
}

// The registry entry of an op whose config is its name (plus what `read_extra` accepts):
// `make(name)` constructs it.
inline OperationEntry named_op_entry(
    std::string class_name, std::string module,
    std::function<std::shared_ptr<Operation>(std::string name)> make,
    void (*read_extra)(ConfigReader&) = [](ConfigReader&) {}) {
  return OperationEntry{class_name, std::move(module),
                        [class_name, make = std::move(make), read_extra](const Config& config) {
                          return make(read_op_config(config, class_name, read_extra));
                        }};
}

// The same for an Op constructed from its name alone.
template <typename Op>
OperationEntry op_entry(
    std::string class_name, std::string module,
    void (*read_extra)(ConfigReader&) = [](ConfigReader&) {}) {
  return named_op_entry(
      std::move(class_name), std::move(module),
      [](std::string name) -> std::shared_ptr<Operation> {
        return std::make_shared<Op>(std::move(name));
      },
      read_extra);
}

// An `axis` (or `axes`) argument as Keras records it: null, an int, or a list of ints.
struct AxisArgument {
  std::optional<std::vector<int64_t>> axes;  // null: every axis (or the op's default)
  bool is_int = false;                       // written back as an int

  static AxisArgument read(ConfigReader& reader, const std::string& key) {
    const Config value = reader.get(key, nullptr);
    AxisArgument argument;
    if (value.is_number_integer()) {
      argument.axes = std::vector<int64_t>{value.get<int64_t>()};
      argument.is_int = true;
    } else if (value.is_array()) {
      argument.axes.emplace();
      for (const Config& axis : value) {
        if (!axis.is_number_integer()) reader.fail(key, "null, an int or a list of ints");
        argument.axes->push_back(axis.get<int64_t>());
      }
    } else if (!value.is_null()) {
      reader.fail(key, "null, an int or a list of ints");
    }
    return argument;
  }

  Config to_config() const {
    if (!axes) return nullptr;
    if (is_int) return (*axes)[0];
    Config list = Config::array();
    for (const int64_t axis : *axes) list.push_back(axis);
    return list;
  }

  // The axes resolved against `rank` (negative ones count from the end), in the order given;
  // ValueError naming `source` for one out of range or repeated.
  std::vector<int64_t> resolve(int64_t rank, ErrorSource source) const {
    std::vector<int64_t> resolved;
    for (const int64_t axis : axes.value_or(std::vector<int64_t>{})) {
      const int64_t a = axis < 0 ? axis + rank : axis;
      if (a < 0 || a >= rank) {
        throw_value_error(source, "axis out of range",
                          "axes in [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")",
                          "axis=" + to_config().dump());
      }
      for (const int64_t seen : resolved) {
        if (seen == a) {
          throw_value_error(source, "repeated axis", "distinct axes", "axis=" + to_config().dump());
        }
      }
      resolved.push_back(a);
    }
    return resolved;
  }
};

// The elements of a tensor of any dtype as doubles, in row-major order.
inline std::vector<double> as_doubles(const AnyTensor& tensor) {
  return std::visit(
      [](const auto& t) {
        std::vector<double> values;
        for (const auto& v : t.to_vector()) values.push_back(static_cast<double>(v));
        return values;
      },
      tensor);
}

// The single output of a symbolic call of `op`.
inline KerasTensor single_output(const std::shared_ptr<Operation>& op,
                                 NodeArguments<KerasTensor> args) {
  return call_symbolic(op, std::move(args)).front();
}

// The single output of a symbolic call of `op` on `x` alone.
inline KerasTensor unary_output(const std::shared_ptr<Operation>& op, const KerasTensor& x) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x)};
  return single_output(op, std::move(args));
}

}  // namespace kattn::detail
