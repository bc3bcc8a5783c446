// keras.layers.Conv1D.
#include "kattn/layers/conv1d.hpp"

#include <memory>
#include <utility>

namespace kattn {

Conv1D::Conv1D(Args args) : BaseConv("Conv1D", 1, std::move(args)) {}

std::unique_ptr<Conv1D> Conv1D::from_config(const Config& config) {
  return std::make_unique<Conv1D>(read_args(config, "Conv1D"));
}

}  // namespace kattn
