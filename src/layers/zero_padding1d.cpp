// keras.layers.ZeroPadding1D.
#include "kattn/layers/zero_padding1d.hpp"

#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

ZeroPadding1D::ZeroPadding1D() : ZeroPadding1D(Args{}) {}

ZeroPadding1D::ZeroPadding1D(Args args)
    : ReshapingLayer("ZeroPadding1D", LayerArgs{std::move(args.name), args.trainable},
                     BuildRecord::kRecorded),
      padding_(detail::standardize_tuple(error_source(), "padding", args.padding, 2,
                                         /*allow_zero=*/true)),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)) {}

std::unique_ptr<ZeroPadding1D> ZeroPadding1D::from_config(const Config& config) {
  ConfigReader reader(config, {"ZeroPadding1D", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.padding = IntOrList::read(reader, "padding", args.padding);
  if (!reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", "channels_last");
  }
  reader.check_all_read();
  return std::make_unique<ZeroPadding1D>(std::move(args));
}

Shape ZeroPadding1D::compute_output_shape(const Shape& input_shape) const {
  detail::check_rank_3(error_source(), input_shape);
  Shape output = input_shape;
  int64_t& steps = output[static_cast<size_t>(steps_axis())];
  if (steps >= 0) steps += padding_[0] + padding_[1];
  return output;
}

Tensor ZeroPadding1D::call(const Tensor& inputs) const {
  detail::check_rank_3(error_source(), inputs.shape());
  return pad_axis(inputs, steps_axis(), padding_[0], padding_[1]);
}

Tensor ZeroPadding1D::gradient(const Tensor& d_output, const Shape& input_shape) const {
  const int64_t axis = steps_axis();
  return d_output.slice(axis, padding_[0], padding_[0] + input_shape[static_cast<size_t>(axis)])
      .contiguous();
}

Config ZeroPadding1D::get_config() const {
  Config config = Layer::get_config();
  config["padding"] = detail::shape_to_json(padding_);
  config["data_format"] = data_format_;
  return config;
}

}  // namespace kattn
