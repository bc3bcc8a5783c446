// What the keras.ops functions recorded in model graphs share (Add, NotEqual, ExpandDims, ...):
// a class name, its module ("keras.src.ops.numpy", "keras.src.ops.core"), a name, no weights,
// and outputs that never carry a Keras mask.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

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

// The single output of a symbolic call of `op`.
inline KerasTensor single_output(const std::shared_ptr<Operation>& op,
                                 NodeArguments<KerasTensor> args) {
  return call_symbolic(op, std::move(args)).front();
}

}  // namespace kattn::detail
