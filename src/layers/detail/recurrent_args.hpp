// What LSTM, GRU and SimpleRNN share between their Args and their configs: the cell and the
// RNN options their Args make, and the config keys the three have in common.
#pragma once

#include <utility>

#include "kattn/core/config.hpp"
#include "kattn/layers/rnn.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn::detail {

// The cell arguments of a subclass's Args (moved out of it).
template <typename Args>
RNN::CellArgs cell_args(Args& args, ops::RecurrentCell kind) {
  RNN::CellArgs cell;
  cell.kind = kind;
  cell.units = args.units;
  cell.activation = std::move(args.activation);
  if constexpr (requires { args.recurrent_activation; }) {
    cell.recurrent_activation = std::move(args.recurrent_activation);
  }
  cell.use_bias = args.use_bias;
  cell.kernel = std::move(args.kernel);
  cell.recurrent = std::move(args.recurrent);
  cell.bias = std::move(args.bias);
  if constexpr (requires { args.unit_forget_bias; }) cell.unit_forget_bias = args.unit_forget_bias;
  if constexpr (requires { args.reset_after; }) cell.reset_after = args.reset_after;
  cell.dropout = args.dropout;
  cell.recurrent_dropout = args.recurrent_dropout;
  cell.seed = args.seed;
  cell.activity_regularizer = std::move(args.activity_regularizer);
  return cell;
}

// keras.layers.RNN's keys.
RNNOptions read_rnn_options(ConfigReader& reader);

// Reads the keys of a subclass's config into its Args: the base layer's, the RNN's, the cell's
// (recurrent_activation, unit_forget_bias and reset_after where the Args have them).
template <typename Args>
void read_recurrent_args(ConfigReader& reader, Args& args) {
  read_base_args(reader, args);
  args.rnn = read_rnn_options(reader);
  args.units = read_positive_int(reader, "units");
  args.activation = ActivationFunction::from_config(reader.get("activation", "tanh"));
  if constexpr (requires { args.recurrent_activation; }) {
    args.recurrent_activation =
        ActivationFunction::from_config(reader.get("recurrent_activation", "sigmoid"));
  }
  args.use_bias = reader.get_bool("use_bias", true);
  args.kernel = read_weight_args(reader, "kernel", "glorot_uniform");
  args.recurrent = read_weight_args(reader, "recurrent", "orthogonal");
  args.bias = read_weight_args(reader, "bias", "zeros");
  if constexpr (requires { args.unit_forget_bias; }) {
    args.unit_forget_bias = reader.get_bool("unit_forget_bias", true);
  }
  if constexpr (requires { args.reset_after; }) {
    args.reset_after = reader.get_bool("reset_after", true);
  }
  args.activity_regularizer = read_keras_object(reader, "activity_regularizer");
  args.dropout = reader.get_number("dropout", 0.0);
  args.recurrent_dropout = reader.get_number("recurrent_dropout", 0.0);
  args.seed = read_optional_int(reader, "seed");
  reader.check_all_read();
}

}  // namespace kattn::detail
