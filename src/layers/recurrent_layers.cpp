// keras.layers.LSTM, GRU and SimpleRNN: each the RNN over its cell (the loop, the weights and the
// node are the RNN's; the arithmetic is kattn/ops/recurrent.hpp's).
#include <memory>
#include <utility>

#include "kattn/layers/gru.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/simple_rnn.hpp"
#include "layers/detail/recurrent_args.hpp"

namespace kattn {

namespace {

template <typename L>
std::unique_ptr<L> recurrent_from_config(const Config& config, const char* class_name) {
  ConfigReader reader(config, {class_name, config_layer_name(config)});
  typename L::Args args;
  detail::read_recurrent_args(reader, args);
  return std::make_unique<L>(std::move(args));
}

}  // namespace

LSTM::LSTM(Args args)
    : RNN("LSTM", LayerArgs{std::move(args.name), args.trainable},
          detail::cell_args(args, ops::RecurrentCell::kLSTM), args.rnn) {}

std::unique_ptr<LSTM> LSTM::from_config(const Config& config) {
  return recurrent_from_config<LSTM>(config, "LSTM");
}

GRU::GRU(Args args)
    : RNN("GRU", LayerArgs{std::move(args.name), args.trainable},
          detail::cell_args(args, ops::RecurrentCell::kGRU), args.rnn) {}

std::unique_ptr<GRU> GRU::from_config(const Config& config) {
  return recurrent_from_config<GRU>(config, "GRU");
}

SimpleRNN::SimpleRNN(Args args)
    : RNN("SimpleRNN", LayerArgs{std::move(args.name), args.trainable},
          detail::cell_args(args, ops::RecurrentCell::kSimpleRNN), args.rnn) {}

std::unique_ptr<SimpleRNN> SimpleRNN::from_config(const Config& config) {
  return recurrent_from_config<SimpleRNN>(config, "SimpleRNN");
}

}  // namespace kattn
