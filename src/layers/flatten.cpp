// keras.layers.Flatten.
#include "kattn/layers/flatten.hpp"

#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

Flatten::Flatten() : Flatten(Args{}) {}

Flatten::Flatten(Args args)
    : ReshapingLayer("Flatten", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)) {}

std::unique_ptr<Flatten> Flatten::from_config(const Config& config) {
  ConfigReader reader(config, {"Flatten", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  if (!reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", "channels_last");
  }
  reader.check_all_read();
  return std::make_unique<Flatten>(std::move(args));
}

Shape Flatten::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.empty()) {
    throw_value_error(error_source(), "Input 0 is incompatible with the layer", "min_ndim=1",
                      "ndim=0, shape=()");
  }
  int64_t flattened = 1;
  for (size_t axis = 1; axis < input_shape.size(); ++axis) {
    if (input_shape[axis] < 0) return {input_shape[0], -1};
    flattened *= input_shape[axis];
  }
  return {input_shape[0], flattened};
}

std::vector<int64_t> Flatten::channels_last_axes(size_t rank) const {
  // Keras transposes whenever rank > 1; for rank 2 that is the identity.
  if (data_format_ != "channels_first" || rank <= 2) return {};
  std::vector<int64_t> axes{0};
  for (size_t axis = 2; axis < rank; ++axis) axes.push_back(static_cast<int64_t>(axis));
  axes.push_back(1);
  return axes;
}

Tensor Flatten::call(const Tensor& inputs) const {
  const Shape output_shape = compute_output_shape(inputs.shape());
  const std::vector<int64_t> axes = channels_last_axes(inputs.shape().size());
  return (axes.empty() ? inputs : transpose(inputs, axes)).reshape(output_shape);
}

Tensor Flatten::gradient(const Tensor& d_output, const Shape& input_shape) const {
  const std::vector<int64_t> axes = channels_last_axes(input_shape.size());
  if (axes.empty()) return d_output.reshape(input_shape);
  Shape transposed(input_shape.size());
  for (size_t i = 0; i < axes.size(); ++i)
    transposed[i] = input_shape[static_cast<size_t>(axes[i])];
  return transpose(d_output.reshape(transposed), inverse_axes(axes));
}

Config Flatten::get_config() const {
  Config config = Layer::get_config();
  config["data_format"] = data_format_;
  return config;
}

}  // namespace kattn
