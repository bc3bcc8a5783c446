// keras.layers.Reshape and keras.src.ops.operation_utils.compute_reshape_output_shape.
#include "kattn/layers/reshape.hpp"

#include <memory>
#include <utility>

#include "kattn/layers/int_or_list.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

// As Python prints the tuples in Keras's messages: "(3, -1)".
std::string python_tuple(const std::vector<int64_t>& values) {
  return IntOrList(values).to_string();
}

}  // namespace

Reshape::Reshape(Args args)
    : ReshapingLayer("Reshape", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kNotRecorded),
      target_shape_(std::move(args.target_shape)) {
  // validate_reshape_shape(target_shape, newshape_arg_name="target_shape")
  int64_t unknown = 0;
  for (const int64_t dim : target_shape_) {
    if (dim < -1) {
      throw_value_error(error_source(),
                        "Each dimension in `target_shape` must be a non-negative integer, or "
                        "`-1` for a single unknown dimension",
                        "dimensions >= -1", "target_shape=" + python_tuple(target_shape_));
    }
    if (dim == -1) ++unknown;
  }
  if (unknown > 1) {
    throw_value_error(error_source(),
                      "There must be at most one unknown dimension (-1) in `target_shape`",
                      "at most one -1", "target_shape=" + python_tuple(target_shape_));
  }
}

std::unique_ptr<Reshape> Reshape::from_config(const Config& config) {
  ConfigReader reader(config, {"Reshape", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  // Required, and a list: Keras's tuple(target_shape) of an int fails.
  if (!reader.has("target_shape")) reader.fail("target_shape", "a list of ints");
  const IntOrList target_shape =
      IntOrList::read(reader, "target_shape", IntOrList(std::vector<int64_t>{}));
  if (target_shape.is_int) reader.fail("target_shape", "a list of ints");
  args.target_shape = target_shape.values;
  reader.check_all_read();
  return std::make_unique<Reshape>(std::move(args));
}

Shape Reshape::compute_output_shape(const Shape& input_shape) const {
  // compute_reshape_output_shape(input_shape[1:], target_shape, "target_shape"), batch kept.
  if (input_shape.empty()) check_rank(input_shape, 1);
  Shape output{input_shape[0]};
  output.insert(output.end(), target_shape_.begin(), target_shape_.end());
  int64_t input_size = 1;
  for (size_t axis = 1; axis < input_shape.size(); ++axis) {
    if (input_shape[axis] < 0) return output;  // an unknown size: -1 stays None
    input_size *= input_shape[axis];
  }
  int64_t known_size = 1;
  int64_t unknown_axis = -1;
  for (size_t i = 0; i < target_shape_.size(); ++i) {
    if (target_shape_[i] == -1) {
      unknown_axis = static_cast<int64_t>(i) + 1;
    } else {
      known_size *= target_shape_[i];
    }
  }
  const std::string received =
      "input_shape=" + python_tuple(Shape(input_shape.begin() + 1, input_shape.end())) +
      ", target_shape=" + python_tuple(target_shape_);
  if (unknown_axis < 0) {
    if (known_size != input_size) {
      throw_value_error(error_source(), "The total size of the tensor must be unchanged",
                        "a target_shape of " + std::to_string(input_size) + " elements", received);
    }
    return output;
  }
  if (known_size == 0 || input_size % known_size != 0) {
    throw_value_error(error_source(),
                      "The total size of the tensor must be unchanged, however, the input size "
                      "cannot by divided by the specified dimensions in target_shape",
                      "dimensions whose product divides " + std::to_string(input_size), received);
  }
  output[static_cast<size_t>(unknown_axis)] = input_size / known_size;
  return output;
}

Tensor Reshape::call(const Tensor& inputs) const {
  return inputs.reshape(compute_output_shape(inputs.shape()));
}

Tensor Reshape::gradient(const Tensor& d_output, const Shape& input_shape) const {
  return d_output.reshape(input_shape);
}

Config Reshape::get_config() const {
  Config config = Layer::get_config();
  config["target_shape"] = detail::shape_to_json(target_shape_);
  return config;
}

}  // namespace kattn
