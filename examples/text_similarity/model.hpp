// The text-similarity network of the Keras documentation for layers.Attention (a CNN encoder
// over token embeddings, query-value attention, pooling, a small classifier), written with
// kattn's functional API. Shared by the examples that run it and that train it.
//
// Keras (Python) writes the same model as:
//   query_input = keras.Input(shape=(None,), dtype="int32", name="query_tokens")
//   value_input = keras.Input(shape=(None,), dtype="int32", name="value_tokens")
//   token_embedding = layers.Embedding(input_dim=40, output_dim=8, name="token_embedding")
//   cnn_layer = layers.Conv1D(filters=6, kernel_size=4, padding="same", name="cnn")
//   query_seq_encoding = cnn_layer(token_embedding(query_input))
//   value_seq_encoding = cnn_layer(token_embedding(value_input))
//   query_value_attention_seq = layers.Attention(name="attention")(
//       [query_seq_encoding, value_seq_encoding])
//   query_encoding = layers.GlobalAveragePooling1D(name="query_pool")(query_seq_encoding)
//   query_value_attention = layers.GlobalAveragePooling1D(name="attention_pool")(
//       query_value_attention_seq)
//   features = layers.Concatenate(name="concat")([query_encoding, query_value_attention])
//   hidden = layers.Dense(8, activation="relu", name="hidden")(features)
//   similarity = layers.Dense(1, activation="sigmoid", name="similarity")(hidden)
//   model = keras.Model([query_input, value_input], [similarity], name="text_similarity")
// (The documentation uses 1000 tokens, 64-dimensional embeddings and 100 filters; the small
// sizes keep the examples quick.)
#pragma once

#include "kattn/layers/attention.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"

// Token ids run from 0 to kVocabulary - 1.
inline constexpr int64_t kVocabulary = 40;

inline kattn::Model text_similarity_model() {
  using kattn::make_layer;
  const kattn::KerasTensor query_input =
      kattn::Input({.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "query_tokens"});
  const kattn::KerasTensor value_input =
      kattn::Input({.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "value_tokens"});

  auto token_embedding = make_layer<kattn::Embedding>(
      {.input_dim = kVocabulary, .output_dim = 8, .name = "token_embedding"});
  auto cnn_layer =
      make_layer<kattn::Conv1D>({.filters = 6, .kernel_size = 4, .padding = "same", .name = "cnn"});
  const kattn::KerasTensor query_seq_encoding = cnn_layer(token_embedding(query_input));
  const kattn::KerasTensor value_seq_encoding = cnn_layer(token_embedding(value_input));

  const kattn::KerasTensor query_value_attention_seq =
      make_layer<kattn::Attention>({.name = "attention"})({query_seq_encoding, value_seq_encoding});

  const kattn::KerasTensor query_encoding =
      make_layer<kattn::GlobalAveragePooling1D>({.name = "query_pool"})(query_seq_encoding);
  const kattn::KerasTensor query_value_attention = make_layer<kattn::GlobalAveragePooling1D>(
      {.name = "attention_pool"})(query_value_attention_seq);

  const kattn::KerasTensor features =
      make_layer<kattn::Concatenate>({.name = "concat"})({query_encoding, query_value_attention});
  const kattn::KerasTensor hidden = make_layer<kattn::Dense>(
      {.units = 8, .activation = kattn::ActivationFunction("relu"), .name = "hidden"})(features);
  const kattn::KerasTensor similarity = make_layer<kattn::Dense>(
      {.units = 1, .activation = kattn::ActivationFunction("sigmoid"), .name = "similarity"})(
      hidden);
  return kattn::Model({query_input, value_input}, {similarity}, "text_similarity");
}
