// keras.layers.MaxPooling1D/2D and AveragePooling1D/2D: BasePooling.__init__'s checks,
// compute_pooling_output_shape, and ops.max_pool / ops.average_pool (ops/window_pooling).
#include "kattn/layers/pooling_windows.hpp"

#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/temporal_args.hpp"
#include "ops/window_pooling.hpp"

namespace kattn {

namespace {

struct PoolingSaved : detail::SavedForBackward {
  Tensor inputs;
};

}  // namespace

BasePooling::BasePooling(std::string class_name, size_t pool_dimensions, bool max, Args args)
    : UnaryLayer(std::move(class_name), LayerArgs{std::move(args.name), args.trainable},
                 MaskRule::kDrop, BuildRecord::kNotRecorded),
      max_(max),
      pool_size_(
          detail::standardize_tuple(error_source(), "pool_size", args.pool_size, pool_dimensions)),
      strides_(detail::standardize_tuple(error_source(), "strides",
                                         args.strides.value_or(args.pool_size), pool_dimensions)),
      padding_(std::move(args.padding)),
      data_format_(detail::standardize_data_format(error_source(), args.data_format)) {
  if (padding_ != "valid" && padding_ != "same") {
    throw_value_error(error_source(), "Argument `padding` must be either 'valid' or 'same'",
                      "'valid' or 'same'", "padding=" + padding_);
  }
  build_once([] {});  // BasePooling.__init__: self._build_at_init()
}

BasePooling::Args BasePooling::read_args(const Config& config, std::string_view class_name) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.pool_size = IntOrList::read(reader, "pool_size", args.pool_size);
  if (!reader.get("strides", nullptr).is_null()) {
    args.strides = IntOrList::read(reader, "strides", args.pool_size);
  }
  args.padding = reader.get_string("padding", args.padding);
  if (!reader.get("data_format", nullptr).is_null()) {
    args.data_format = reader.get_string("data_format", args.data_format);
  }
  reader.check_all_read();
  return args;
}

void BasePooling::check_rank(const Shape& input_shape) const {
  const size_t ndim = pool_size_.size() + 2;
  if (input_shape.size() == ndim) return;
  throw_value_error(
      error_source(), "Input 0 is incompatible with the layer", "ndim=" + std::to_string(ndim),
      "ndim=" + std::to_string(input_shape.size()) + ", shape=" + detail::keras_shape(input_shape));
}

Shape BasePooling::compute_output_shape(const Shape& input_shape) const {
  check_rank(input_shape);
  Shape output = input_shape;
  const size_t first = data_format_ == "channels_first" ? 2 : 1;
  for (size_t axis = 0; axis < pool_size_.size(); ++axis) {
    int64_t& length = output[first + axis];
    length = ops::pooled_length(length, pool_size_[axis], strides_[axis], padding_ == "same");
    if (input_shape[first + axis] >= 0 && length <= 0 && padding_ == "valid") {
      throw_value_error(error_source(), "Computed output size would be zero or negative",
                        "windows that fit in the input",
                        "inputs.shape=" + detail::keras_shape(input_shape) +
                            ", pool_size=" + IntOrList(pool_size_).to_string() + ", strides=" +
                            IntOrList(strides_).to_string() + ", padding=" + padding_);
    }
  }
  return output;
}

Tensor BasePooling::call(const Tensor& inputs) const {
  compute_output_shape(inputs.shape());
  return ops::window_pool(
      inputs, {pool_size_, strides_, padding_ == "same", data_format_ == "channels_first",
               max_ ? ops::PoolMode::kMax : ops::PoolMode::kAverage});
}

LayerForward BasePooling::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<PoolingSaved>();
  saved->layer = this;
  LayerForward result{call(inputs), nullptr};
  saved->inputs = inputs.contiguous();
  result.saved = std::move(saved);
  return result;
}

Tensor BasePooling::backward(const LayerForward& forward, const Tensor& d_output,
                             std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<PoolingSaved>(*this, forward, d_output, weight_gradients);
  return ops::window_pool_backward(
      saved.inputs, d_output,
      {pool_size_, strides_, padding_ == "same", data_format_ == "channels_first",
       max_ ? ops::PoolMode::kMax : ops::PoolMode::kAverage});
}

Config BasePooling::get_config() const {
  Config config = Layer::get_config();
  config["pool_size"] = detail::shape_to_json(pool_size_);
  config["padding"] = padding_;
  config["strides"] = detail::shape_to_json(strides_);
  config["data_format"] = data_format_;
  return config;
}

MaxPooling1D::MaxPooling1D(Args args) : BasePooling("MaxPooling1D", 1, true, std::move(args)) {}

std::unique_ptr<MaxPooling1D> MaxPooling1D::from_config(const Config& config) {
  return std::make_unique<MaxPooling1D>(read_args(config, "MaxPooling1D"));
}

AveragePooling1D::AveragePooling1D(Args args)
    : BasePooling("AveragePooling1D", 1, false, std::move(args)) {}

std::unique_ptr<AveragePooling1D> AveragePooling1D::from_config(const Config& config) {
  return std::make_unique<AveragePooling1D>(read_args(config, "AveragePooling1D"));
}

MaxPooling2D::MaxPooling2D(Args args) : BasePooling("MaxPooling2D", 2, true, std::move(args)) {}

std::unique_ptr<MaxPooling2D> MaxPooling2D::from_config(const Config& config) {
  return std::make_unique<MaxPooling2D>(read_args(config, "MaxPooling2D"));
}

AveragePooling2D::AveragePooling2D(Args args)
    : BasePooling("AveragePooling2D", 2, false, std::move(args)) {}

std::unique_ptr<AveragePooling2D> AveragePooling2D::from_config(const Config& config) {
  return std::make_unique<AveragePooling2D>(read_args(config, "AveragePooling2D"));
}

}  // namespace kattn
