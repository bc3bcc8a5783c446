// keras.layers.GRU, exact to Keras 3.16: an RNN (kattn/layers/rnn.hpp) over a GRUCell.
//
//   reset_after (default; bias (2, 3 * units) = [input; recurrent]):
//     x = x_t kernel + b_0, r_h = h recurrent_kernel + b_1, gates z, r, h:
//     z = ract(x_z + r_z), r = ract(x_r + r_r), n = act(x_h + r * r_h)
//   reset before (bias (3 * units,)): x = x_t kernel + b;
//     z = ract(x_z + h U_z), r = ract(x_r + h U_r), n = act(x_h + (r * h) U_h)
//   h' = z * h + (1 - z) * n;  states [h]
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rnn.hpp"

namespace kattn {

class GRU : public RNN {
 public:
  // Keras's constructor arguments, with Keras's defaults (initializers: kernel glorot_uniform,
  // recurrent orthogonal, bias zeros). units is required.
  struct Args {
    int64_t units = 0;
    ActivationFunction activation = ActivationFunction("tanh");
    ActivationFunction recurrent_activation = ActivationFunction("sigmoid");
    bool use_bias = true;
    WeightArgs kernel = {};
    WeightArgs recurrent = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;
    double dropout = 0.0;  // clamped to [0, 1], as Keras does
    double recurrent_dropout = 0.0;
    std::optional<int64_t> seed = std::nullopt;
    bool reset_after = true;
    RNNOptions rnn = {};
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit GRU(Args args);
  // Keras's from_config: the keys of get_config(); unknown keys raise ValueError.
  static std::unique_ptr<GRU> from_config(const Config& config);
};

}  // namespace kattn
