// keras.layers.SpatialDropout1D, SpatialDropout2D and SpatialDropout3D, exact to Keras 3.16's
// rule (not to its random numbers): Dropout that drops whole channels.
//
//   SpatialDropout1D: inputs (B, T, C), keep mask (B, 1, C)
//   SpatialDropout2D: inputs (B, H, W, C) channels_last, keep mask (B, 1, 1, C);
//                     (B, C, H, W) channels_first, keep mask (B, C, 1, 1)
//   SpatialDropout3D: the same with three spatial axes
//
// Their configs hold rate, seed, name, dtype (the name "float32", not the policy) and
// data_format for 2D and 3D: no trainable, no noise_shape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/dropout.hpp"

namespace kattn {

class BaseSpatialDropout : public Dropout {
 public:
  struct Args {
    double rate = 0.0;  // in [0, 1]; required in Keras
    std::optional<int64_t> seed = std::nullopt;
    std::string data_format = "channels_last";  // 2D and 3D: or "channels_first"
    std::string name = "";                      // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  const std::string& data_format() const { return data_format_; }
  Config get_config() const override;

 protected:
  // `spatial_rank`: 1, 2 or 3; `has_data_format`: whether the config writes data_format.
  BaseSpatialDropout(std::string class_name, Args args, int64_t spatial_rank, bool has_data_format);
  // Reads a spatial dropout's config into Args.
  static Args read_args(const Config& config, const std::string& class_name, bool has_data_format);
  // ValueError (Keras's InputSpec wording) unless the inputs have rank spatial_rank + 2.
  void check_inputs(const Shape& input_shape) const override;

 private:
  int64_t spatial_rank_;
  bool has_data_format_;
  std::string data_format_;
};

class SpatialDropout1D : public BaseSpatialDropout {
 public:
  explicit SpatialDropout1D(Args args);
  static std::unique_ptr<SpatialDropout1D> from_config(const Config& config);
};

class SpatialDropout2D : public BaseSpatialDropout {
 public:
  explicit SpatialDropout2D(Args args);
  static std::unique_ptr<SpatialDropout2D> from_config(const Config& config);
};

class SpatialDropout3D : public BaseSpatialDropout {
 public:
  explicit SpatialDropout3D(Args args);
  static std::unique_ptr<SpatialDropout3D> from_config(const Config& config);
};

}  // namespace kattn
