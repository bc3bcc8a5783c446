// keras.layers.InputLayer: stands for one model input; its node has no arguments and its one
// output is the input tensor.
#include "core/node_inputs.hpp"
#include "kattn/models/input.hpp"
#include "models/operation_registry.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kNoParameters;

class InputLayer : public Operation {
 public:
  InputLayer(std::string name, Shape batch_shape, DType dtype)
      : Operation("InputLayer", std::move(name)),
        batch_shape_(std::move(batch_shape)),
        dtype_(dtype) {}

  static std::shared_ptr<InputLayer> from_config(const Config& config) {
    ConfigReader reader(config, {"InputLayer", config_layer_name(config)});
    const std::string name = reader.get_string("name", "input_layer");
    const Config shape = reader.get("batch_shape", nullptr);
    Shape batch_shape;
    if (!shape.is_array() || shape.empty()) reader.fail("batch_shape", "a list of dimensions");
    for (const Config& dim : shape) {
      if (dim.is_null()) {
        batch_shape.push_back(-1);
      } else if (dim.is_number_integer() && dim.get<int64_t>() >= 0) {
        batch_shape.push_back(dim.get<int64_t>());
      } else {
        reader.fail("batch_shape", "a list of dimensions (non-negative integers or null)");
      }
    }
    const std::string dtype_text = reader.get_string("dtype", "float32");
    const std::optional<DType> dtype = dtype_from_name(dtype_text);
    if (!dtype) {
      throw NotSupportedError(error_message(reader.source(), "unsupported input dtype",
                                            "one of float32, int32, bool", "dtype=" + dtype_text));
    }
    for (const char* key : {"sparse", "ragged", "optional"}) {
      if (reader.get_bool(key, false)) {
        throw NotSupportedError(error_message(reader.source(), "unsupported input argument",
                                              std::string(key) + "=False",
                                              std::string(key) + "=True"));
      }
    }
    reader.check_all_read();
    return std::make_shared<InputLayer>(name, batch_shape, *dtype);
  }

  std::string module() const override { return kLayersModule; }
  bool is_layer() const override { return true; }
  bool is_input() const override { return true; }

  // InputLayer's config has no `trainable` and no dtype policy: the tensor's dtype name.
  Config get_config() const override {
    return Config{{"batch_shape", shape_config(batch_shape_)},
                  {"dtype", dtype_name(dtype_)},
                  {"sparse", false},
                  {"ragged", false},
                  {"name", name()},
                  {"optional", false}};
  }

  const std::vector<std::string>& call_parameters() const override { return kNoParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments&) override {
    return {KerasTensor(batch_shape_, dtype_)};
  }

  // Never run: a model feeds its inputs to the input nodes' outputs.
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override {
    throw ValueError(error_message({"InputLayer", name()}, "an input layer is not called",
                                   "the model to feed it", "a call"));
  }

 private:
  Shape batch_shape_;
  DType dtype_;
};

}  // namespace

std::shared_ptr<Operation> input_layer_from_config(const Config& config) {
  return InputLayer::from_config(config);
}

}  // namespace kattn::detail

namespace kattn {

KerasTensor Input(const InputArgs& args) {
  const std::string name = args.name.empty() ? detail::unique_name("input_layer") : args.name;
  Shape batch_shape;
  if (args.batch_shape) {
    batch_shape = *args.batch_shape;
  } else {
    batch_shape.push_back(-1);
    batch_shape.insert(batch_shape.end(), args.shape.begin(), args.shape.end());
  }
  for (int64_t dim : batch_shape) {
    if (dim < -1) {
      throw_value_error({"InputLayer", name}, "invalid shape", "dimensions >= 0, or -1 for None",
                        "shape=" + shape_to_string(batch_shape));
    }
  }
  if (batch_shape.empty()) {
    throw_value_error({"InputLayer", name}, "invalid shape", "at least the batch axis",
                      "batch_shape=()");
  }
  auto layer = std::make_shared<detail::InputLayer>(name, batch_shape, args.dtype);
  return call_symbolic(layer, {}).front();
}

}  // namespace kattn
