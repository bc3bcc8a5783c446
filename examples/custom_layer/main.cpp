// keras.io's "Text classification with Transformer", in C++, with its two custom layers
// written against kattn's custom-layer interface (zoo_layers.hpp): the model is built as the
// Keras example builds it, trained on a task it generates (is the sequence mostly small
// token ids?), evaluated on held-out sequences, saved as a .keras file Keras loads (after
// importing the layers' Python module, zoo_custom_layers.py), and loaded back, which needs the
// layers registered.
//
//   custom_layer [OUT_DIR] [EPOCHS] [SAMPLES]     (defaults: ., 8, 2000)
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "kattn/core/random.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/custom_layers.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"
#include "zoo_layers.hpp"

namespace {

constexpr int64_t kVocab = 20, kMaxlen = 10;

struct Task {
  kattn::Tensor ids;     // (samples, maxlen), float ids as in the Keras example
  kattn::Tensor labels;  // (samples,): 1 when most ids are below kVocab / 2
};

Task make_task(int64_t samples, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> id(1, kVocab - 1);
  Task task{kattn::Tensor({samples, kMaxlen}), kattn::Tensor({samples})};
  for (int64_t n = 0; n < samples; ++n) {
    int small = 0;
    for (int64_t t = 0; t < kMaxlen; ++t) {
      const int token = id(random);
      task.ids(n, t) = static_cast<float>(token);
      small += token < kVocab / 2 ? 1 : 0;
    }
    task.labels(n) = 2 * small > kMaxlen ? 1.0f : 0.0f;
  }
  return task;
}

kattn::Model text_classifier() {
  using kattn::make_layer;
  const kattn::KerasTensor inputs = kattn::Input({.shape = {kMaxlen}, .name = "tokens"});
  auto embedding = kattn::LayerRef<zoo::TokenAndPositionEmbedding>(
      std::make_shared<zoo::TokenAndPositionEmbedding>(zoo::TokenAndPositionEmbedding::Args{
          .maxlen = kMaxlen, .vocab_size = kVocab, .embed_dim = 32}));
  auto block = kattn::LayerRef<zoo::TransformerBlock>(std::make_shared<zoo::TransformerBlock>(
      zoo::TransformerBlock::Args{.embed_dim = 32, .num_heads = 2, .ff_dim = 32}));
  kattn::KerasTensor x = block(embedding(inputs));
  x = make_layer<kattn::GlobalAveragePooling1D>()(x);
  x = make_layer<kattn::Dropout>({.rate = 0.1})(x);
  x = make_layer<kattn::Dense>({.units = 20, .activation = kattn::ActivationFunction("relu")})(x);
  x = make_layer<kattn::Dropout>({.rate = 0.1})(x);
  x = make_layer<kattn::Dense>({.units = 2, .activation = kattn::ActivationFunction("softmax")})(x);
  return kattn::Model(inputs, x, "text_transformer");
}

double accuracy(const kattn::Model& model, const Task& task) {
  const kattn::Tensor probabilities = std::get<kattn::Tensor>(model.predict({task.ids}).front());
  int64_t right = 0;
  for (int64_t n = 0; n < task.labels.size(); ++n) {
    const int64_t predicted = probabilities(n, 1) > probabilities(n, 0) ? 1 : 0;
    right += predicted == static_cast<int64_t>(task.labels(n)) ? 1 : 0;
  }
  return static_cast<double>(right) / static_cast<double>(task.labels.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : ".";
  const int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 8;
  const int64_t samples = argc > 3 ? std::atoll(argv[3]) : 2000;
  zoo::register_layers();
  kattn::set_random_seed(1);  // the same initial weights, and so the same run, every time

  const Task train = make_task(samples, 1), held_out = make_task(500, 2);
  kattn::Model model = text_classifier();
  std::cout << model.summary() << "\n";
  model.compile(
      {.optimizer = std::make_shared<kattn::Adam>(kattn::Adam::Args{.learning_rate = 1e-3}),
       .loss = std::make_shared<kattn::SparseCategoricalCrossentropy>()});
  model.fit({train.ids}, {train.labels}, {.batch_size = 32, .epochs = epochs, .seed = 7});
  const double trained = accuracy(model, held_out);
  std::cout << "held-out accuracy: " << trained << " (500 sequences; chance 0.5)\n";

  std::filesystem::create_directories(out);
  const std::filesystem::path path = out / "text_transformer.keras";
  kattn::save_model(model, path);
  const kattn::Model loaded = kattn::load_model(path);
  const double reloaded = accuracy(loaded, held_out);
  std::cout << "saved " << path.string() << "; loaded back: held-out accuracy " << reloaded << "\n";
  return trained > 0.75 && reloaded == trained ? 0 : 1;
}
