// Training the recurrent encoder-decoders the attention layers were made for: Model::fit on a
// Luong (LSTM, Attention) and a Bahdanau (GRU, AdditiveAttention) model built in C++, and on a
// bidirectional LSTM classifier, each on a task it learns in a few epochs; the loss must fall.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "kattn/core/random.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/bidirectional.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/layers/time_distributed.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace kattn {
namespace {

constexpr int64_t kVocab = 7, kSteps = 5, kSamples = 48;

// Digit strings (1 .. 6, 0 pads nothing here) and their reversals, the decoder fed the target
// shifted right behind a start token 0.
struct ReverseTask {
  Int32Tensor source{Shape{kSamples, kSteps}};
  Int32Tensor decoder_input{Shape{kSamples, kSteps}};
  Tensor target{Shape{kSamples, kSteps}};
  ReverseTask() {
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int32_t> digit(1, kVocab - 1);
    for (int64_t n = 0; n < kSamples; ++n) {
      for (int64_t t = 0; t < kSteps; ++t) source(n, t) = digit(rng);
      for (int64_t t = 0; t < kSteps; ++t) {
        target(n, t) = static_cast<float>(source(n, kSteps - 1 - t));
        decoder_input(n, t) = t == 0 ? 0 : source(n, kSteps - t);
      }
    }
  }
};

// encoder (LSTM or GRU, sequences and states) -> decoder from the encoder's states ->
// attention(decoder, encoder) -> concat -> TimeDistributed(Dense(softmax)).
Model seq2seq(bool luong) {
  auto source = Input({.shape = {kSteps}, .dtype = DType::kInt32, .name = "source"});
  auto target = Input({.shape = {kSteps}, .dtype = DType::kInt32, .name = "decoder_input"});
  const KerasTensor source_embedded = make_layer<Embedding>(
      {.input_dim = kVocab, .output_dim = 8, .name = "source_embedding"})(source);
  const KerasTensor target_embedded = make_layer<Embedding>(
      {.input_dim = kVocab, .output_dim = 8, .name = "target_embedding"})(target);
  const RNNOptions encoder_options{.return_sequences = true, .return_state = true};
  const RNNOptions decoder_options{.return_sequences = true};
  const std::vector<KerasTensor> encoder =
      luong ? make_layer<LSTM>({.units = 16, .rnn = encoder_options, .name = "encoder"})
                  .call({source_embedded})
            : make_layer<GRU>({.units = 16, .rnn = encoder_options, .name = "encoder"})
                  .call({source_embedded});
  const SymbolicKwargs from_encoder{
      {"initial_state", std::vector<KerasTensor>(encoder.begin() + 1, encoder.end())}};
  const KerasTensor decoded =
      luong ? make_layer<LSTM>({.units = 16, .rnn = decoder_options})(target_embedded, from_encoder)
            : make_layer<GRU>({.units = 16, .rnn = decoder_options})(target_embedded, from_encoder);
  const KerasTensor attended = luong ? make_layer<Attention>()({decoded, encoder[0]})
                                     : make_layer<AdditiveAttention>()({decoded, encoder[0]});
  const KerasTensor joined = make_layer<Concatenate>()({decoded, attended});
  const KerasTensor probabilities = make_layer<TimeDistributed>(
      {.layer = std::make_shared<Dense>(
           Dense::Args{.units = kVocab, .activation = ActivationFunction("softmax")})})(joined);
  return Model({source, target}, {probabilities}, luong ? "luong" : "bahdanau");
}

void expect_loss_falls(Model& model, const std::vector<AnyTensor>& x, const Tensor& y,
                       int64_t epochs) {
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.02}),
                 .loss = std::make_shared<SparseCategoricalCrossentropy>()});
  std::ostringstream quiet;
  const History history =
      model.fit(x, {y}, {.batch_size = 16, .epochs = epochs, .seed = 3, .progress = &quiet});
  const std::vector<double>& losses = history.history.at("loss");
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << losses.front() << " -> " << losses.back();
}

TEST(Seq2SeqTraining, LuongLstmLearnsToReverse) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  const ReverseTask task;
  Model model = seq2seq(true);
  expect_loss_falls(model, {task.source, task.decoder_input}, task.target, 25);
}

TEST(Seq2SeqTraining, BahdanauGruLearnsToReverse) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  const ReverseTask task;
  Model model = seq2seq(false);
  expect_loss_falls(model, {task.source, task.decoder_input}, task.target, 25);
}

// Padded token rows (mask_zero) through a bidirectional LSTM: the class is whether the first
// token is above the middle of the vocabulary.
TEST(Seq2SeqTraining, BidirectionalClassifierLearns) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  const ReverseTask task;
  Int32Tensor tokens = task.source.clone();
  Tensor labels({kSamples});
  for (int64_t n = 0; n < kSamples; ++n) {
    labels(n) = tokens(n, 0) > kVocab / 2 ? 1.0f : 0.0f;
    for (int64_t t = 1 + n % 3; t < kSteps; ++t) tokens(n, t) = 0;  // padding
  }
  auto ids = Input({.shape = {kSteps}, .dtype = DType::kInt32, .name = "tokens"});
  KerasTensor x =
      make_layer<Embedding>({.input_dim = kVocab, .output_dim = 8, .mask_zero = true})(ids);
  x = make_layer<Bidirectional>({.layer = std::make_shared<LSTM>(LSTM::Args{
                                     .units = 8, .rnn = {.return_sequences = true}})})(x);
  x = make_layer<GlobalAveragePooling1D>()(x);
  x = make_layer<Dense>({.units = 2, .activation = ActivationFunction("softmax")})(x);
  Model model(ids, x, "classifier");
  expect_loss_falls(model, {tokens}, labels, 25);
}

}  // namespace
}  // namespace kattn
