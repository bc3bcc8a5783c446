// The two custom layers of keras.io's "Text classification with Transformer", as the golden
// zoo's zoo_custom_layers.py registers them (package "zoo"), written in C++ against kattn's
// custom-layer interface (kattn/models/custom_layers.hpp):
//
//   TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim): float token ids (B, T), T <=
//     maxlen, truncated to integers as Embedding casts them -> token_emb[ids] + pos_emb[t],
//     (B, T, embed_dim). A UnaryLayer with its own weights and backward.
//   TransformerBlock(embed_dim, num_heads, ff_dim, rate=0.1): x (B, T, embed_dim) ->
//     out1 = layernorm1(x + dropout1(att(x, x))), layernorm2(out1 + dropout2(ffn(out1))), ffn =
//     Dense(ff_dim, relu) then Dense(embed_dim). A GraphLayer of kattn's layers.
//
// Both save as Keras saves them: module "zoo_custom_layers", registered_name "zoo>...", the
// config keys of their get_config(), the weights under their attributes' groups.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kattn/layers/unary_layer.hpp"
#include "kattn/models/graph_layer.hpp"

namespace zoo {

inline constexpr const char* kModule = "zoo_custom_layers";

class TokenAndPositionEmbedding : public kattn::UnaryLayer {
 public:
  struct Args {
    int64_t maxlen = 0;
    int64_t vocab_size = 0;
    int64_t embed_dim = 0;
    std::string name = "token_and_position_embedding";
    bool trainable = true;
  };

  explicit TokenAndPositionEmbedding(Args args);
  static std::shared_ptr<TokenAndPositionEmbedding> from_config(const kattn::Config& config);
  kattn::Config get_config() const override;
  std::string module() const override { return kModule; }
  kattn::Config registered_name() const override { return "zoo>TokenAndPositionEmbedding"; }

  void build(const kattn::Shape& input_shape) override;
  kattn::Shape compute_output_shape(const kattn::Shape& input_shape) const override;
  kattn::Tensor call(const kattn::Tensor& inputs) const override;
  kattn::LayerForward forward(const kattn::Tensor& inputs) const override;
  // d token_emb[ids[b, t]] += d[b, t]; d pos_emb[t] += sum over b of d[b, t]; the ids get zeros.
  kattn::Tensor backward(const kattn::LayerForward& forward, const kattn::Tensor& d_output,
                         std::vector<kattn::Tensor>& weight_gradients) const override;
  kattn::WeightLayout weight_layout() const override;
  // Its ids come as float32 (keras.io's example) or int32.
  bool takes_int_ids() const override { return true; }

 private:
  // The integer ids of `inputs`, checked against the vocabulary and maxlen.
  std::vector<int64_t> ids_of(const kattn::Tensor& inputs) const;

  Args args_;
};

class TransformerBlock : public kattn::GraphLayer {
 public:
  struct Args {
    int64_t embed_dim = 0;
    int64_t num_heads = 0;
    int64_t ff_dim = 0;
    double rate = 0.1;
    std::string name = "transformer_block";
    bool trainable = true;
  };

  explicit TransformerBlock(Args args);
  static std::shared_ptr<TransformerBlock> from_config(const kattn::Config& config);
  kattn::Config get_config() const override;
  std::string module() const override { return kModule; }
  kattn::Config registered_name() const override { return "zoo>TransformerBlock"; }

 protected:
  Graph build_graph(const std::vector<kattn::KerasTensor>& inputs) override;

 private:
  Args args_;
};

// Registers both under their registered names.
void register_layers();

}  // namespace zoo
