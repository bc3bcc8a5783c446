// keras.layers.Conv2D.
#include "kattn/layers/conv2d.hpp"

#include <memory>
#include <utility>

namespace kattn {

Conv2D::Conv2D(Args args) : BaseConv("Conv2D", 2, std::move(args)) {}

std::unique_ptr<Conv2D> Conv2D::from_config(const Config& config) {
  return std::make_unique<Conv2D>(read_args(config, "Conv2D"));
}

}  // namespace kattn
