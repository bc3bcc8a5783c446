// keras.layers.SpatialDropout1D, SpatialDropout2D and SpatialDropout3D.
#include "kattn/layers/spatial_dropout.hpp"

#include <memory>
#include <utility>

#include "core/argument_checks.hpp"
#include "kattn/core/error.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"

namespace kattn {

namespace {

// Dropout's arguments for a spatial dropout: the keep mask shared along the spatial axes.
Dropout::Args dropout_args(BaseSpatialDropout::Args& args, const std::string& class_name,
                           int64_t spatial_rank) {
  const std::string data_format =
      detail::standardize_data_format({class_name, args.name}, args.data_format);
  Shape noise(static_cast<size_t>(spatial_rank + 2), 1);
  noise[0] = -1;
  noise[data_format == "channels_first" ? 1 : noise.size() - 1] = -1;
  return {.rate = args.rate,
          .noise_shape = noise,
          .seed = args.seed,
          .name = args.name,
          .trainable = args.trainable};
}

}  // namespace

BaseSpatialDropout::BaseSpatialDropout(std::string class_name, Args args, int64_t spatial_rank,
                                       bool has_data_format)
    : Dropout(class_name, dropout_args(args, class_name, spatial_rank)),
      spatial_rank_(spatial_rank),
      has_data_format_(has_data_format),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)) {}

BaseSpatialDropout::Args BaseSpatialDropout::read_args(const Config& config,
                                                       const std::string& class_name,
                                                       bool has_data_format) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.rate = read_required_number(reader, "rate");
  args.seed = read_seed(reader);
  if (has_data_format && !reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", "channels_last");
  }
  reader.check_all_read();
  return args;
}

void BaseSpatialDropout::check_inputs(const Shape& input_shape) const {
  const int64_t expected = spatial_rank_ + 2;
  if (static_cast<int64_t>(input_shape.size()) == expected) return;
  throw_value_error(error_source(), "Input 0 is incompatible with the layer",
                    "ndim=" + std::to_string(expected),
                    "ndim=" + std::to_string(input_shape.size()) + ", full shape " +
                        detail::keras_shape(input_shape));
}

Config BaseSpatialDropout::get_config() const {
  // BaseSpatialDropout.get_config: rate, seed, name and dtype only, dtype as self.dtype (the
  // dtype's name, not the policy).
  Config config = config_with_seed();
  config.erase("trainable");
  config["dtype"] = "float32";
  config["rate"] = rate();
  if (has_data_format_) config["data_format"] = data_format_;
  return config;
}

SpatialDropout1D::SpatialDropout1D(Args args)
    : BaseSpatialDropout("SpatialDropout1D", std::move(args), 1, false) {}

std::unique_ptr<SpatialDropout1D> SpatialDropout1D::from_config(const Config& config) {
  return std::make_unique<SpatialDropout1D>(read_args(config, "SpatialDropout1D", false));
}

SpatialDropout2D::SpatialDropout2D(Args args)
    : BaseSpatialDropout("SpatialDropout2D", std::move(args), 2, true) {}

std::unique_ptr<SpatialDropout2D> SpatialDropout2D::from_config(const Config& config) {
  return std::make_unique<SpatialDropout2D>(read_args(config, "SpatialDropout2D", true));
}

SpatialDropout3D::SpatialDropout3D(Args args)
    : BaseSpatialDropout("SpatialDropout3D", std::move(args), 3, true) {}

std::unique_ptr<SpatialDropout3D> SpatialDropout3D::from_config(const Config& config) {
  return std::make_unique<SpatialDropout3D>(read_args(config, "SpatialDropout3D", true));
}

}  // namespace kattn
