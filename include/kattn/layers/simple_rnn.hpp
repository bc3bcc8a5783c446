// keras.layers.SimpleRNN, exact to Keras 3.16: an RNN (kattn/layers/rnn.hpp) over a
// SimpleRNNCell.
//
//   h' = act((x_t kernel + bias) + h recurrent_kernel);  states [h]
//
// Keras 3.16's SimpleRNN.get_config() has no `seed` (its constructor takes one): from_config
// reads it when present, get_config() leaves it out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kattn/core/config.hpp"
#include "kattn/layers/rnn.hpp"

namespace kattn {

class SimpleRNN : public RNN {
 public:
  // Keras's constructor arguments, with Keras's defaults (initializers: kernel glorot_uniform,
  // recurrent orthogonal, bias zeros). units is required.
  struct Args {
    int64_t units = 0;
    ActivationFunction activation = ActivationFunction("tanh");
    bool use_bias = true;
    WeightArgs kernel = {};
    WeightArgs recurrent = {};
    WeightArgs bias = {};
    Config activity_regularizer = nullptr;
    double dropout = 0.0;  // clamped to [0, 1], as Keras does
    double recurrent_dropout = 0.0;
    std::optional<int64_t> seed = std::nullopt;
    RNNOptions rnn = {};
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  explicit SimpleRNN(Args args);
  // Keras's from_config: the keys of get_config() (and seed); unknown keys raise ValueError.
  static std::unique_ptr<SimpleRNN> from_config(const Config& config);
};

}  // namespace kattn
