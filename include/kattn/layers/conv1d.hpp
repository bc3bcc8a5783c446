// keras.layers.Conv1D, exact to Keras 3.16: BaseConv (base_conv.hpp) over one spatial axis.
//
//   inputs (B, L, C) (channels_first: (B, C, L)), kernel (k, C / groups, filters), bias
//   (filters,); padding "valid", "same" or "causal" ((k - 1) * d zeros before the steps).
#pragma once

#include <cstdint>
#include <memory>

#include "kattn/core/config.hpp"
#include "kattn/layers/base_conv.hpp"

namespace kattn {

class Conv1D : public BaseConv {
 public:
  using Args = BaseConv::Args;

  // Validates the arguments (ValueError with Keras's wording); kernel_size, strides and
  // dilation_rate are one int each.
  explicit Conv1D(Args args);
  static std::unique_ptr<Conv1D> from_config(const Config& config);

  int64_t kernel_size() const { return kernel_size_[0]; }
  int64_t strides() const { return strides_[0]; }
  int64_t dilation_rate() const { return dilation_rate_[0]; }
};

}  // namespace kattn
