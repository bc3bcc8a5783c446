#include "zoo_layers.hpp"

#include <cmath>

#include "kattn/core/error.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/models/custom_layers.hpp"
#include "kattn/models/layer_ref.hpp"

namespace zoo {

using kattn::Config;
using kattn::ConfigReader;
using kattn::KerasTensor;
using kattn::Shape;
using kattn::Tensor;

namespace {

// What a training call of TokenAndPositionEmbedding keeps: the ids.
struct SavedIds : kattn::detail::SavedForBackward {
  std::vector<int64_t> ids;
  Shape shape;  // the inputs' (B, T)
};

void require_positive(const kattn::ErrorSource& source, const char* argument, int64_t value) {
  if (value <= 0) {
    kattn::throw_value_error(source, std::string("invalid `") + argument + "`", "a positive int",
                             std::string(argument) + "=" + std::to_string(value));
  }
}

}  // namespace

TokenAndPositionEmbedding::TokenAndPositionEmbedding(Args args)
    : UnaryLayer("TokenAndPositionEmbedding", {args.name, args.trainable}, MaskRule::kDrop,
                 BuildRecord::kRecorded),
      args_(std::move(args)) {
  require_positive(error_source(), "maxlen", args_.maxlen);
  require_positive(error_source(), "vocab_size", args_.vocab_size);
  require_positive(error_source(), "embed_dim", args_.embed_dim);
}

std::shared_ptr<TokenAndPositionEmbedding> TokenAndPositionEmbedding::from_config(
    const Config& config) {
  ConfigReader reader(config, {"TokenAndPositionEmbedding", kattn::config_layer_name(config)});
  const kattn::LayerArgs base = kattn::read_layer_args(reader, "token_and_position_embedding");
  Args args{.maxlen = reader.get_int("maxlen", 0),
            .vocab_size = reader.get_int("vocab_size", 0),
            .embed_dim = reader.get_int("embed_dim", 0),
            .name = base.name,
            .trainable = base.trainable};
  reader.check_all_read();
  return std::make_shared<TokenAndPositionEmbedding>(std::move(args));
}

Config TokenAndPositionEmbedding::get_config() const {
  Config config = Layer::get_config();
  config["maxlen"] = args_.maxlen;
  config["vocab_size"] = args_.vocab_size;
  config["embed_dim"] = args_.embed_dim;
  return config;
}

void TokenAndPositionEmbedding::build(const Shape& /*input_shape*/) {
  build_once([&] {
    // Embedding's default initializer, "uniform".
    add_weight("token_emb/embeddings", {args_.vocab_size, args_.embed_dim},
               kattn::Initializer::random_uniform());
    add_weight("pos_emb/embeddings", {args_.maxlen, args_.embed_dim},
               kattn::Initializer::random_uniform());
  });
}

Shape TokenAndPositionEmbedding::compute_output_shape(const Shape& input_shape) const {
  Shape output = input_shape;
  output.push_back(args_.embed_dim);
  return output;
}

kattn::WeightLayout TokenAndPositionEmbedding::weight_layout() const {
  return {.datasets = {"token_emb/vars/0", "pos_emb/vars/0"},
          .groups = {
              {"vars", name()}, {"token_emb/vars", "embedding"}, {"pos_emb/vars", "embedding_1"}}};
}

std::vector<int64_t> TokenAndPositionEmbedding::ids_of(const Tensor& inputs) const {
  if (inputs.rank() != 2) {
    kattn::throw_value_error(error_source(), "invalid input", "token ids of shape (batch, T)",
                             "shape " + kattn::shape_to_string(inputs.shape()));
  }
  if (inputs.dim(1) > args_.maxlen) {
    kattn::throw_value_error(error_source(), "sequence longer than maxlen",
                             "T <= " + std::to_string(args_.maxlen),
                             "T = " + std::to_string(inputs.dim(1)));
  }
  const Tensor x = inputs.contiguous();
  std::vector<int64_t> ids(static_cast<size_t>(x.size()));
  for (int64_t i = 0; i < x.size(); ++i) {
    const float id = std::trunc(x.data()[i]);  // Embedding casts float ids to int32
    if (!(id >= 0 && id < static_cast<float>(args_.vocab_size))) {
      kattn::throw_value_error(error_source(), "token id out of range",
                               "ids in [0, " + std::to_string(args_.vocab_size) + ")",
                               "id " + std::to_string(x.data()[i]));
    }
    ids[static_cast<size_t>(i)] = static_cast<int64_t>(id);
  }
  return ids;
}

Tensor TokenAndPositionEmbedding::call(const Tensor& inputs) const {
  return forward(inputs).output;
}

kattn::LayerForward TokenAndPositionEmbedding::forward(const Tensor& inputs) const {
  // Built on the first call, as Keras builds a layer called eagerly.
  const_cast<TokenAndPositionEmbedding*>(this)->build(inputs.shape());
  auto saved = std::make_shared<SavedIds>();
  saved->layer = this;
  saved->ids = ids_of(inputs);
  saved->shape = inputs.shape();
  const int64_t batch = inputs.dim(0), steps = inputs.dim(1), d = args_.embed_dim;
  const Tensor tokens = weight("token_emb/embeddings").contiguous();
  const Tensor positions = weight("pos_emb/embeddings").contiguous();
  Tensor output({batch, steps, d});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const float* token = tokens.data() + saved->ids[static_cast<size_t>(b * steps + t)] * d;
      const float* position = positions.data() + t * d;
      float* out = output.data() + (b * steps + t) * d;
      for (int64_t k = 0; k < d; ++k) out[k] = token[k] + position[k];
    }
  }
  return {std::move(output), std::move(saved)};
}

Tensor TokenAndPositionEmbedding::backward(const kattn::LayerForward& forward,
                                           const Tensor& d_output,
                                           std::vector<Tensor>& weight_gradients) const {
  const auto* saved = dynamic_cast<const SavedIds*>(forward.saved.get());
  if (saved == nullptr || saved->layer != this || d_output.shape() != forward.output.shape()) {
    kattn::throw_value_error(
        error_source(), "invalid backward call",
        "the forward() of this layer and a gradient of its output's shape",
        "another forward or shape " + kattn::shape_to_string(d_output.shape()));
  }
  check_gradient_buffers(weight_gradients);
  const int64_t batch = saved->shape[0], steps = saved->shape[1], d = args_.embed_dim;
  const Tensor grad = d_output.contiguous();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const float* g = grad.data() + (b * steps + t) * d;
      float* token =
          weight_gradients[0].data() + saved->ids[static_cast<size_t>(b * steps + t)] * d;
      float* position = weight_gradients[1].data() + t * d;
      for (int64_t k = 0; k < d; ++k) {
        token[k] += g[k];
        position[k] += g[k];
      }
    }
  }
  return Tensor(saved->shape);  // ids have no gradient
}

TransformerBlock::TransformerBlock(Args args)
    : GraphLayer("TransformerBlock", {args.name, args.trainable}), args_(std::move(args)) {
  require_positive(error_source(), "embed_dim", args_.embed_dim);
  require_positive(error_source(), "num_heads", args_.num_heads);
  require_positive(error_source(), "ff_dim", args_.ff_dim);
  if (!(args_.rate >= 0 && args_.rate < 1)) {
    kattn::throw_value_error(error_source(), "invalid `rate`", "a rate in [0, 1)",
                             "rate=" + std::to_string(args_.rate));
  }
}

std::shared_ptr<TransformerBlock> TransformerBlock::from_config(const Config& config) {
  ConfigReader reader(config, {"TransformerBlock", kattn::config_layer_name(config)});
  const kattn::LayerArgs base = kattn::read_layer_args(reader, "transformer_block");
  Args args{.embed_dim = reader.get_int("embed_dim", 0),
            .num_heads = reader.get_int("num_heads", 0),
            .ff_dim = reader.get_int("ff_dim", 0),
            .rate = reader.get_number("rate", 0.1),
            .name = base.name,
            .trainable = base.trainable};
  reader.check_all_read();
  return std::make_shared<TransformerBlock>(std::move(args));
}

Config TransformerBlock::get_config() const {
  Config config = Layer::get_config();
  config["embed_dim"] = args_.embed_dim;
  config["num_heads"] = args_.num_heads;
  config["ff_dim"] = args_.ff_dim;
  config["rate"] = args_.rate;
  return config;
}

kattn::GraphLayer::Graph TransformerBlock::build_graph(const std::vector<KerasTensor>& inputs) {
  using kattn::make_layer;
  // Named as Keras names them by default: the `name` of their groups in model.weights.h5.
  auto att = make_layer<kattn::MultiHeadAttention>(
      {.num_heads = args_.num_heads, .key_dim = args_.embed_dim, .name = "multi_head_attention"});
  auto ffn_hidden = make_layer<kattn::Dense>(
      {.units = args_.ff_dim, .activation = kattn::ActivationFunction("relu"), .name = "dense"});
  auto ffn_output = make_layer<kattn::Dense>({.units = args_.embed_dim, .name = "dense_1"});
  auto layernorm1 =
      make_layer<kattn::LayerNormalization>({.epsilon = 1e-6, .name = "layer_normalization"});
  auto layernorm2 =
      make_layer<kattn::LayerNormalization>({.epsilon = 1e-6, .name = "layer_normalization_1"});
  auto dropout1 = make_layer<kattn::Dropout>({.rate = args_.rate, .name = "dropout"});
  auto dropout2 = make_layer<kattn::Dropout>({.rate = args_.rate, .name = "dropout_1"});

  const KerasTensor& x = inputs.at(0);
  const KerasTensor out1 = layernorm1(x + dropout1(att(x, x)));
  const KerasTensor output = layernorm2(out1 + dropout2(ffn_output(ffn_hidden(out1))));
  return {.outputs = {output},
          .sublayers = {{"att", att.layer()},
                        {"ffn/layers/dense", ffn_hidden.layer()},
                        {"ffn/layers/dense_1", ffn_output.layer()},
                        {"layernorm1", layernorm1.layer()},
                        {"layernorm2", layernorm2.layer()},
                        {"dropout1", dropout1.layer()},
                        {"dropout2", dropout2.layer()}},
          .groups = {{"ffn/vars", "sequential"}}};
}

void register_layers() {
  kattn::register_custom_layer("zoo>TokenAndPositionEmbedding", [](const Config& config) {
    return TokenAndPositionEmbedding::from_config(config);
  });
  kattn::register_custom_layer("zoo>TransformerBlock", [](const Config& config) {
    return TransformerBlock::from_config(config);
  });
}

}  // namespace zoo

// What `kattn --custom-layers libkattn_zoo_layers.so` and kattn::load_custom_layers call.
extern "C" void kattn_register_custom_layers() { zoo::register_layers(); }
