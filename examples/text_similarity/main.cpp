// The text-similarity network of the Keras documentation for layers.Attention (a CNN encoder
// over token embeddings, query-value attention, pooling, a small classifier), written with
// kattn's functional API, run, saved as a .keras file Keras loads, and loaded back.
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
// sizes keep the example quick.)
//
// usage: text_similarity [OUTPUT.keras]     (default: text_similarity.keras)
#include <cstdio>
#include <iostream>
#include <vector>

#include "kattn/layers/attention.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"

namespace {

kattn::Model text_similarity_model() {
  using kattn::make_layer;
  const kattn::KerasTensor query_input =
      kattn::Input({.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "query_tokens"});
  const kattn::KerasTensor value_input =
      kattn::Input({.shape = {-1}, .dtype = kattn::DType::kInt32, .name = "value_tokens"});

  auto token_embedding =
      make_layer<kattn::Embedding>({.input_dim = 40, .output_dim = 8, .name = "token_embedding"});
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

void print_scores(const char* label, const kattn::Tensor& scores) {
  std::printf("%s", label);
  for (float score : scores.to_vector()) std::printf(" %.6f", static_cast<double>(score));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "text_similarity.keras";
  try {
    const kattn::Model model = text_similarity_model();
    std::cout << model.summary();

    // Two pairs of token sequences (batch 2): queries of 5 tokens, values of 7.
    const kattn::Int32Tensor query_tokens({2, 5}, {3, 14, 15, 9, 2, 6, 5, 35, 8, 9});
    const kattn::Int32Tensor value_tokens({2, 7}, {7, 9, 3, 2, 38, 4, 6, 2, 6, 4, 33, 8, 3, 27});
    const kattn::Tensor scores =
        std::get<kattn::Tensor>(model.predict({query_tokens, value_tokens}).front());
    print_scores("similarity:", scores);

    kattn::save_model(model, path);
    const kattn::Model reloaded = kattn::load_model(path);
    const kattn::Tensor reloaded_scores =
        std::get<kattn::Tensor>(reloaded.predict({query_tokens, value_tokens}).front());
    print_scores("reloaded:  ", reloaded_scores);
    const bool identical = reloaded_scores.to_vector() == scores.to_vector();
    std::printf("saved %s; the reloaded model's outputs are %s\n", path,
                identical ? "identical" : "DIFFERENT");
    return identical ? 0 : 1;
  } catch (const kattn::Error& e) {
    std::cerr << "text_similarity: " << e.what() << "\n";
    return 2;
  }
}
