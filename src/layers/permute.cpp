// keras.layers.Permute.
#include "kattn/layers/permute.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "kattn/layers/int_or_list.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

Permute::Permute(Args args)
    : ReshapingLayer("Permute", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      dims_(std::move(args.dims)) {
  std::vector<int64_t> sorted = dims_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != static_cast<int64_t>(i) + 1) {
      throw_value_error(error_source(),
                        "Invalid permutation argument `dims` for Permute Layer. The set of "
                        "indices in `dims` must be consecutive and start from 1",
                        "a permutation of 1, ..., " + std::to_string(dims_.size()),
                        "dims=" + IntOrList(dims_).to_string());
    }
  }
  axes_.push_back(0);
  axes_.insert(axes_.end(), dims_.begin(), dims_.end());
}

std::unique_ptr<Permute> Permute::from_config(const Config& config) {
  ConfigReader reader(config, {"Permute", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  // Required, and a list: Keras's tuple(dims) of an int fails.
  if (!reader.has("dims")) reader.fail("dims", "a list of ints");
  const IntOrList dims = IntOrList::read(reader, "dims", IntOrList(std::vector<int64_t>{}));
  if (dims.is_int) reader.fail("dims", "a list of ints");
  args.dims = dims.values;
  reader.check_all_read();
  return std::make_unique<Permute>(std::move(args));
}

Shape Permute::compute_output_shape(const Shape& input_shape) const {
  check_rank(input_shape, axes_.size());
  Shape output;
  for (const int64_t axis : axes_) output.push_back(input_shape[static_cast<size_t>(axis)]);
  return output;
}

Tensor Permute::call(const Tensor& inputs) const {
  check_rank(inputs.shape(), axes_.size());
  return transpose(inputs, axes_);
}

Tensor Permute::gradient(const Tensor& d_output, const Shape& /*input_shape*/) const {
  return transpose(d_output, inverse_axes(axes_));
}

Config Permute::get_config() const {
  Config config = Layer::get_config();
  config["dims"] = detail::shape_to_json(dims_);
  return config;
}

}  // namespace kattn
