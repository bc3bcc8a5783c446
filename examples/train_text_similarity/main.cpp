// Trains the text-similarity network of the Keras documentation for layers.Attention
// (examples/text_similarity/model.hpp) in C++, as Keras's model.fit would:
//
//   keras.utils.set_random_seed(SEED)
//   model = text_similarity_model()
//   model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
//                 metrics=["accuracy"])
//   model.fit([query_tokens, value_tokens], labels, batch_size=32, epochs=EPOCHS)
//   model.evaluate([held_out_query, held_out_value], held_out_labels)
//   model.save(OUTPUT)
//
// on pairs of token sequences it generates: four topics own eight token ids each (1-32), ids
// 33-39 are noise shared by all, 0 is unused. A query (5 tokens) and a value (7 tokens) each
// draw three in four tokens from one topic and the rest from the noise; the pair is similar
// (label 1) when the topics are the same, which is half the time. Chance is 50% accuracy.
//
// The task is XOR-like (similar = same topic, whichever topic), and some initial weights leave the
// network on the 0.693 plateau of always answering 0.5; the fixed seed gives the same initial
// weights, and so the same run, every time.
//
// usage: train_text_similarity [OUTPUT.keras] [EPOCHS] [SEED]
//        (defaults: text_similarity_trained.keras, 12, 1)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "../text_similarity/model.hpp"
#include "kattn/core/random.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace {

constexpr int64_t kTopics = 4;
constexpr int64_t kTopicTokens = 8;  // ids 1 + topic * 8 ... 8 + topic * 8
constexpr int64_t kFirstNoise = 1 + kTopics * kTopicTokens;
constexpr int64_t kQueryLength = 5;
constexpr int64_t kValueLength = 7;

struct Pairs {
  kattn::Int32Tensor query_tokens;  // (N, 5)
  kattn::Int32Tensor value_tokens;  // (N, 7)
  kattn::Tensor labels;             // (N, 1): 1 = same topic
};

Pairs make_pairs(int64_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> topic_of(0, kTopics - 1);
  std::uniform_int_distribution<int64_t> token_in_topic(0, kTopicTokens - 1);
  std::uniform_int_distribution<int64_t> noise(kFirstNoise, kVocabulary - 1);
  std::bernoulli_distribution from_topic(0.75), similar(0.5);
  const auto sequence = [&](kattn::Int32Tensor& out, int64_t row, int64_t length, int64_t topic) {
    for (int64_t t = 0; t < length; ++t) {
      const int64_t id =
          from_topic(rng) ? 1 + topic * kTopicTokens + token_in_topic(rng) : noise(rng);
      out(row, t) = static_cast<int32_t>(id);
    }
  };
  Pairs pairs{kattn::Int32Tensor({count, kQueryLength}), kattn::Int32Tensor({count, kValueLength}),
              kattn::Tensor({count, 1})};
  for (int64_t row = 0; row < count; ++row) {
    const int64_t query_topic = topic_of(rng);
    const bool same = similar(rng);
    const int64_t value_topic =
        same ? query_topic
             : (query_topic + 1 + std::uniform_int_distribution<int64_t>(0, kTopics - 2)(rng)) %
                   kTopics;
    sequence(pairs.query_tokens, row, kQueryLength, query_topic);
    sequence(pairs.value_tokens, row, kValueLength, value_topic);
    pairs.labels(row, 0) = same ? 1.0f : 0.0f;
  }
  return pairs;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "text_similarity_trained.keras";
  const int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 12;
  const int64_t seed = argc > 3 ? std::atoll(argv[3]) : 1;
  try {
    kattn::set_random_seed(seed);
    kattn::Model model = text_similarity_model();
    const Pairs train = make_pairs(2000, 1);
    const Pairs held_out = make_pairs(500, 2);

    model.compile(
        {.optimizer = std::make_shared<kattn::Adam>(kattn::Adam::Args{.learning_rate = 0.01}),
         .loss = std::make_shared<kattn::BinaryCrossentropy>(),
         .metrics = {"accuracy"}});
    const kattn::Logs before =
        model.evaluate({train.query_tokens, train.value_tokens}, {train.labels});
    std::printf("before training: loss %.4f, accuracy %.4f\n", before.at("loss"),
                before.at("accuracy"));
    const kattn::History history =
        model.fit({train.query_tokens, train.value_tokens}, {train.labels},
                  {.batch_size = 32,
                   .epochs = epochs,
                   .verbose = kattn::FitArgs::Verbose::kLine,
                   .seed = 3,
                   .validation_x =
                       std::vector<kattn::AnyTensor>{held_out.query_tokens, held_out.value_tokens},
                   .validation_y = std::vector<kattn::Tensor>{held_out.labels}});
    const kattn::Logs after =
        model.evaluate({held_out.query_tokens, held_out.value_tokens}, {held_out.labels});
    const std::vector<double>& losses = history.history.at("loss");
    std::printf("training loss: %.4f in the first epoch, %.4f in the last\n", losses.front(),
                losses.back());
    std::printf("held-out pairs: loss %.4f, accuracy %.4f (chance: 0.5)\n", after.at("loss"),
                after.at("accuracy"));

    kattn::save_model(model, path);
    const kattn::Model reloaded = kattn::load_model(path);
    const kattn::AnyTensor ours =
        model.predict({held_out.query_tokens, held_out.value_tokens}).front();
    const kattn::AnyTensor theirs =
        reloaded.predict({held_out.query_tokens, held_out.value_tokens}).front();
    const bool identical =
        std::get<kattn::Tensor>(ours).to_vector() == std::get<kattn::Tensor>(theirs).to_vector();
    std::printf("saved %s; the reloaded model's predictions are %s\n", path,
                identical ? "identical" : "DIFFERENT");
    return identical ? 0 : 1;
  } catch (const kattn::Error& e) {
    std::cerr << "train_text_similarity: " << e.what() << "\n";
    return 2;
  }
}
