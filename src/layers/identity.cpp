// keras.layers.Identity.
#include "kattn/layers/identity.hpp"

#include <memory>
#include <utility>

#include "layers/detail/layer_backward.hpp"

namespace kattn {

Identity::Identity() : Identity(Args{}) {}

Identity::Identity(Args args)
    : Identity("Identity", LayerArgs{std::move(args.name), args.trainable}) {}

Identity::Identity(std::string class_name, LayerArgs args)
    : UnaryLayer(std::move(class_name), std::move(args), MaskRule::kPassThrough,
                 BuildRecord::kNotRecorded) {
  build_once([] {});  // Identity.__init__: self._build_at_init()
}

std::unique_ptr<Identity> Identity::from_config(const Config& config) {
  ConfigReader reader(config, {"Identity", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  reader.check_all_read();
  return std::make_unique<Identity>(std::move(args));
}

LayerForward Identity::forward(const Tensor& inputs) const {
  auto saved = std::make_shared<detail::SavedForBackward>();
  saved->layer = this;
  return {inputs, std::move(saved)};
}

Tensor Identity::backward(const LayerForward& forward, const Tensor& d_output,
                          std::vector<Tensor>& weight_gradients) const {
  detail::saved_for_backward<detail::SavedForBackward>(*this, forward, d_output, weight_gradients);
  return d_output.clone();
}

}  // namespace kattn
