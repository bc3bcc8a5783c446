// TFOpLambda and SlicingOpLambda: the layers tf.keras 2 records for TensorFlow functions
// called on Keras tensors (`x + y`, `tf.reduce_mean(x, axis=1)`, `x[:, 0]`), read as the
// keras.ops operations of Keras 3 that compute the same.
//
// A Keras 2 entry {"class_name": "TFOpLambda", "config": {"function": "math.reduce_mean", ...},
// "inbound_nodes": [["dense", 0, 0, {"axis": 1}]]} holds one call: its first argument (a tensor
// triple, a list of them, or ["_CONSTANT_VALUE", -1, value, kwargs]) with the other arguments as
// kwargs on each tensor.
#include <map>
#include <utility>
#include <vector>

#include "models/legacy_config.hpp"
#include "models/model_config.hpp"
#include "ops/keras_op.hpp"
#include "ops/nn_operations.hpp"

namespace kattn::detail {

namespace {

// How a TensorFlow function's call becomes a keras.ops node.
enum class Form {
  kUnary,      // f(x)
  kBinary,     // f(x, y): y from the kwargs
  kReduction,  // f(x, axis=None, keepdims=False) -> config axis, keepdims
  kAxis,       // f(x, axis) -> config axis (Softmax's defaults to -1)
  kConcat,     // f(values, axis) -> config axis, args [[tensors]]
  kMatmul,     // f(a, b), no transposes
  kReshape,    // f(tensor, shape) -> config newshape
  kTranspose,  // f(a, perm=None) -> config axes
  kGetItem,    // x[slice_spec]
};

struct TfFunction {
  std::string class_name;
  std::string module;
  Form form;
  std::string second = "";  // the kwarg holding the second operand (kBinary, kMatmul)
};

const std::map<std::string, TfFunction, std::less<>>& tf_functions() {
  static const std::map<std::string, TfFunction, std::less<>> table{
      {"__operators__.add", {"Add", kNumpyOps, Form::kBinary, "y"}},
      {"math.add", {"Add", kNumpyOps, Form::kBinary, "y"}},
      {"math.subtract", {"Subtract", kNumpyOps, Form::kBinary, "y"}},
      {"math.multiply", {"Multiply", kNumpyOps, Form::kBinary, "y"}},
      {"math.truediv", {"TrueDivide", kNumpyOps, Form::kBinary, "y"}},
      {"math.divide", {"TrueDivide", kNumpyOps, Form::kBinary, "y"}},
      {"math.negative", {"Negative", kNumpyOps, Form::kUnary}},
      {"math.abs", {"Absolute", kNumpyOps, Form::kUnary}},
      {"math.square", {"Square", kNumpyOps, Form::kUnary}},
      {"math.sqrt", {"Sqrt", kNumpyOps, Form::kUnary}},
      {"math.exp", {"Exp", kNumpyOps, Form::kUnary}},
      {"math.tanh", {"Tanh", kNumpyOps, Form::kUnary}},
      {"nn.relu", {"Relu", kNnOps, Form::kUnary}},
      {"math.sigmoid", {"Sigmoid", kNnOps, Form::kUnary}},
      {"nn.softmax", {"Softmax", kNnOps, Form::kAxis}},
      {"math.reduce_mean", {"Mean", kNumpyOps, Form::kReduction}},
      {"math.reduce_sum", {"Sum", kNumpyOps, Form::kReduction}},
      {"expand_dims", {"ExpandDims", kNumpyOps, Form::kAxis}},
      {"compat.v1.squeeze", {"Squeeze", kNumpyOps, Form::kAxis}},
      {"squeeze", {"Squeeze", kNumpyOps, Form::kAxis}},
      {"concat", {"Concatenate", kNumpyOps, Form::kConcat}},
      {"linalg.matmul", {"Matmul", kNumpyOps, Form::kMatmul, "b"}},
      {"reshape", {"Reshape", kNumpyOps, Form::kReshape}},
      {"compat.v1.transpose", {"Transpose", kNumpyOps, Form::kTranspose}},
      {"transpose", {"Transpose", kNumpyOps, Form::kTranspose}},
      {"__operators__.getitem", {"GetItem", kNumpyOps, Form::kGetItem}},
  };
  return table;
}

std::string supported_functions() {
  std::string names;
  for (const auto& [function, op] : tf_functions()) {
    names += (names.empty() ? "tf." : ", tf.") + function;
  }
  return names;
}

class TfOpUpgrade {
 public:
  explicit TfOpUpgrade(const Config& entry)
      : entry_(entry),
        class_name_(config_string(entry, "class_name")),
        name_(config_layer_name(config_member(entry, "config"))) {}

  Config upgrade() {
    const Config& config = entry_["config"];
    const std::string function = config_string(config, "function");
    const auto found = tf_functions().find(function);
    if (found == tf_functions().end()) {
      refuse("unsupported TensorFlow function tf." + function,
             "one of the functions kattn computes as keras.ops: " + supported_functions(),
             "function=" + short_dump(config_member(config, "function")));
    }
    for (const auto& [key, value] : config.items()) {
      if (key != "name" && key != "trainable" && key != "dtype" && key != "function") {
        fail("unknown key " + key + " in its config", "name, trainable, dtype and function",
             short_dump(value));
      }
    }
    const Config nodes = entry_.value("inbound_nodes", Config());
    if (!nodes.is_array() || nodes.size() != 1) {
      refuse("a TensorFlow function layer called " + std::to_string(nodes.size()) + " times",
             "one call, as tf.keras 2 records each function call", short_dump(nodes));
    }
    Config first = first_argument(nodes[0]);
    kwargs_ = upgrade_legacy_call_argument(kwargs_);
    const TfFunction& op = found->second;
    Config op_config{{"name", name_}};
    Config args = Config::array({std::move(first)});
    kwargs_.erase("name");  // the TensorFlow graph's name for the op: no effect on values
    switch (op.form) {
      case Form::kUnary:
        break;
      case Form::kBinary:
      case Form::kMatmul:
        args.push_back(required(op.second));
        if (op.form == Form::kMatmul) {
          for (const char* flag : {"transpose_a", "transpose_b", "adjoint_a", "adjoint_b",
                                   "a_is_sparse", "b_is_sparse"}) {
            take(flag, false);
          }
          take("output_type", nullptr);
        }
        break;
      case Form::kReduction:
        op_config["axis"] = optional("axis", nullptr);
        op_config["keepdims"] = optional("keepdims", false);
        break;
      case Form::kAxis:
        op_config["axis"] = op.class_name == "Softmax" ? optional("axis", -1) : required("axis");
        if (op_config["axis"].is_null()) op_config["axis"] = -1;  // tf.nn.softmax(axis=None)
        break;
      case Form::kConcat:
        op_config["axis"] = required("axis");
        break;
      case Form::kReshape:
        op_config["newshape"] = required("shape");
        break;
      case Form::kTranspose:
        op_config["axes"] = optional("perm", nullptr);
        take("conjugate", false);
        break;
      case Form::kGetItem:
        args.push_back(slice_key(required("slice_spec")));
        break;
    }
    if (!kwargs_.empty()) {
      refuse("unsupported argument " + kwargs_.begin().key() + " of tf." + function,
             "the arguments kattn computes", short_dump(kwargs_));
    }
    return Config{{"module", op.module},
                  {"class_name", op.class_name},
                  {"config", std::move(op_config)},
                  {"name", name_},
                  {"inbound_nodes",
                   Config::array({{{"args", std::move(args)}, {"kwargs", Config::object()}}})}};
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& expected,
                         const std::string& received) const {
    throw ValueError(error_message({class_name_, name_}, what, expected, received));
  }
  [[noreturn]] void refuse(const std::string& what, const std::string& expected,
                           const std::string& received) const {
    throw NotSupportedError(error_message({class_name_, name_}, what, expected, received));
  }

  // The first call argument, with the kwargs recorded beside it.
  Config first_argument(const Config& data) {
    if (data.is_array() && !data.empty() && data[0].is_string()) {
      if (data[0] == "_CONSTANT_VALUE" && data.size() >= 3) {
        if (data.size() == 4) kwargs_ = data[3];
        return data[2];
      }
      if (!is_legacy_tensor_triple(data)) {
        fail("malformed node", "[layer name, node index, tensor index, kwargs]", short_dump(data));
      }
      if (data.size() == 4) kwargs_ = data[3];
      return legacy_keras_tensor(data[0].get<std::string>(), data[1].get<int64_t>(),
                                 data[2].get<int64_t>());
    }
    if (!data.is_array()) {
      fail("malformed node", "[layer name, node index, tensor index, kwargs] or a list of them",
           short_dump(data));
    }
    Config items = Config::array();
    for (const Config& item : data) items.push_back(first_argument(item));
    return items;
  }

  Config required(const std::string& key) {
    if (!kwargs_.contains(key)) fail("missing argument " + key, key, short_dump(kwargs_));
    Config value = kwargs_[key];
    kwargs_.erase(key);
    return value;
  }
  Config optional(const std::string& key, const Config& fallback) {
    return kwargs_.contains(key) ? required(key) : fallback;
  }
  // Removes `key`, which may only hold `harmless`.
  void take(const std::string& key, const Config& harmless) {
    if (!kwargs_.contains(key)) return;
    if (kwargs_[key] != harmless) {
      refuse("unsupported argument " + key + "=" + short_dump(kwargs_[key]),
             key + "=" + short_dump(harmless), short_dump(kwargs_[key]));
    }
    kwargs_.erase(key);
  }

  // tf.keras's slice_spec (a slice as {"start", "stop", "step"}, an int, None for tf.newaxis,
  // the Ellipsis, or a list of these) as Keras 3's GetItem key.
  Config slice_key(const Config& spec) const {
    if (spec.is_array()) {
      Config items = Config::array();
      for (const Config& item : spec) items.push_back(slice_key(item));
      return items;
    }
    if (spec.is_number_integer() || spec.is_null()) return spec;
    if (spec.is_object() && config_string(spec, "class_name") == "__ellipsis__") {
      return Config{{"class_name", "__ellipsis__"}, {"config", Config::object()}};  // Keras 3's
    }
    if (spec.is_object() && spec.size() == 3 && spec.contains("start") && spec.contains("stop") &&
        spec.contains("step")) {
      for (const char* key : {"start", "stop", "step"}) {
        if (!spec[key].is_null() && !spec[key].is_number_integer()) {
          refuse("a slice bound that is not a constant integer", "integers or None in the slice",
                 short_dump(spec));
        }
      }
      return Config{{"class_name", "__slice__"}, {"config", spec}};
    }
    refuse("unsupported slice", "integers, slices, None and the Ellipsis", short_dump(spec));
  }

  const Config& entry_;
  std::string class_name_;
  std::string name_;
  Config kwargs_ = Config::object();
};

}  // namespace

Config upgrade_legacy_tf_op(const Config& entry) { return TfOpUpgrade(entry).upgrade(); }

}  // namespace kattn::detail
