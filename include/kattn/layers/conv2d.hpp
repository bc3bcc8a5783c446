// keras.layers.Conv2D, exact to Keras 3.16: BaseConv (base_conv.hpp) over two spatial axes.
//
//   inputs (B, H, W, C) (channels_first: (B, C, H, W)), kernel (kh, kw, C / groups, filters),
//   bias (filters,); padding "valid" or "same".
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/layers/base_conv.hpp"

namespace kattn {

class Conv2D : public BaseConv {
 public:
  using Args = BaseConv::Args;

  // Validates the arguments (ValueError with Keras's wording); kernel_size, strides and
  // dilation_rate are one int for both axes or two.
  explicit Conv2D(Args args);
  static std::unique_ptr<Conv2D> from_config(const Config& config);

  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_rate_; }
};

}  // namespace kattn
