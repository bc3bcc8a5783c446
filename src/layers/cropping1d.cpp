// keras.layers.Cropping1D.
#include "kattn/layers/cropping1d.hpp"

#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

Cropping1D::Cropping1D() : Cropping1D(Args{}) {}

Cropping1D::Cropping1D(Args args)
    : ReshapingLayer("Cropping1D", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      cropping_(detail::standardize_tuple(error_source(), "cropping", args.cropping, 2,
                                          /*allow_zero=*/true)) {}

std::unique_ptr<Cropping1D> Cropping1D::from_config(const Config& config) {
  ConfigReader reader(config, {"Cropping1D", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.cropping = IntOrList::read(reader, "cropping", args.cropping);
  reader.check_all_read();
  return std::make_unique<Cropping1D>(std::move(args));
}

void Cropping1D::check_length(const Shape& input_shape) const {
  detail::check_rank_3(error_source(), input_shape);
  if (input_shape[1] >= 0 && cropping_[0] + cropping_[1] >= input_shape[1]) {
    throw_value_error(error_source(),
                      "`cropping` parameter of `Cropping1D` layer must be smaller than the "
                      "input length",
                      "a cropping that leaves at least one step",
                      "input_shape=" + detail::keras_shape(input_shape) +
                          ", cropping=" + IntOrList(cropping_).to_string());
  }
}

Shape Cropping1D::compute_output_shape(const Shape& input_shape) const {
  check_length(input_shape);
  const int64_t length = input_shape[1] < 0 ? -1 : input_shape[1] - cropping_[0] - cropping_[1];
  return {input_shape[0], length, input_shape[2]};
}

Tensor Cropping1D::call(const Tensor& inputs) const {
  check_length(inputs.shape());
  return inputs.slice(1, cropping_[0], inputs.dim(1) - cropping_[1]).contiguous();
}

Tensor Cropping1D::gradient(const Tensor& d_output, const Shape& /*input_shape*/) const {
  return pad_axis(d_output, 1, cropping_[0], cropping_[1]);
}

Config Cropping1D::get_config() const {
  Config config = Layer::get_config();
  config["cropping"] = detail::shape_to_json(cropping_);
  return config;
}

}  // namespace kattn
