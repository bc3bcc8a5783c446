// keras.layers.LSTM, exact to Keras 3.16: an RNN (kattn/layers/rnn.hpp) over an LSTMCell.
//
//   z = (x_t kernel + h recurrent_kernel) + bias, split in gates i, f, c, o:
//   c' = ract(z_f) * c + ract(z_i) * act(z_c);  h' = ract(z_o) * act(c');  states [h, c]
//
// With unit_forget_bias the bias starts at 1 in the forget gate's block (the others get
// bias_initializer's values).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rnn.hpp"

namespace kattn {

class LSTM : public RNN {
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
    bool unit_forget_bias = true;
    Config activity_regularizer = nullptr;
    double dropout = 0.0;  // clamped to [0, 1], as Keras does
    double recurrent_dropout = 0.0;
    std::optional<int64_t> seed = std::nullopt;
    RNNOptions rnn = {};
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit LSTM(Args args);
  // Keras's from_config: the keys of get_config(); unknown keys raise ValueError.
  static std::unique_ptr<LSTM> from_config(const Config& config);
};

}  // namespace kattn
