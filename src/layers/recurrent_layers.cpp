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

std::unique_ptr<RNN> recurrent_layer_from_config(const Config& serialized, ErrorSource source) {
  if (!serialized.is_object() || !serialized.contains("class_name") ||
      !serialized.contains("config")) {
    throw_value_error(source, "invalid recurrent layer", "a serialized layer {class_name, config}",
                      serialized.dump());
  }
  const Config& class_name = serialized["class_name"];
  const Config& config = serialized["config"];
  if (class_name == "LSTM") return LSTM::from_config(config);
  if (class_name == "GRU") return GRU::from_config(config);
  if (class_name == "SimpleRNN") return SimpleRNN::from_config(config);
  throw NotSupportedError(error_message(source, "unsupported recurrent layer",
                                        "LSTM, GRU or SimpleRNN", class_name.dump()));
}

}  // namespace kattn
