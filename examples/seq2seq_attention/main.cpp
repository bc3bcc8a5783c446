// Trains, in C++, the encoder-decoders Luong's and Bahdanau's attention were made for, on a task
// it generates: reading dates written as people write them ("3 march 2021", "march 3, 2021",
// "03.03.2021", ...) and writing them as ISO dates ("2021-03-03"), one character at a time.
//
//   source characters -> Embedding(mask_zero) -> LSTM (Luong) or GRU (Bahdanau) encoder
//   <start> + target[:-1] -> Embedding -> decoder of the same kind, started from the encoder's
//   states -> Attention (Luong) or AdditiveAttention (Bahdanau) over the encoder's sequence,
//   masks [decoder != 0, source != 0] -> Concatenate -> TimeDistributed(Dense(softmax))
//
// as a Keras user writes it (model.compile, model.fit with teacher forcing), then decodes the
// held-out dates greedily (each step feeds the characters chosen so far), prints the exact-match
// accuracy, saves each model as a .keras file (Keras loads it), and draws each model's attention
// alignment for one held-out date as a PNG heat map: input characters along the top, output
// characters down the side, as in Bahdanau et al.'s figure 3.
//
// usage: seq2seq_attention [OUT_DIR] [EPOCHS] [SAMPLES]
//        (defaults: seq2seq_attention_out, 12, 6000)
// writes OUT_DIR/luong.keras, OUT_DIR/bahdanau.keras, OUT_DIR/luong_alignment.png and
// OUT_DIR/bahdanau_alignment.png (with the weights drawn, as .npy beside them); exits 0 when
// both models decode above chance (one date in a thousand; chance is about 1e-7).
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/random.hpp"
#include "kattn/io/heat_map.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/time_distributed.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace {

using kattn::Int32Tensor;
using kattn::KerasTensor;
using kattn::Model;
using kattn::Tensor;

// Token ids: 0 pads, 1 starts the decoder, then one per character.
constexpr std::string_view kCharacters = " ,.-0123456789abcdefghijklmnopqrstuvwxyz";
constexpr int32_t kStart = 1;
constexpr int64_t kVocabulary = 2 + static_cast<int64_t>(kCharacters.size());
constexpr int64_t kSourceLength = 20;  // "september 30, 2021" and the rest fit
constexpr int64_t kTargetLength = 10;  // "2021-09-30"
constexpr int64_t kUnits = 64;

int32_t id_of(char c) { return 2 + static_cast<int32_t>(kCharacters.find(c)); }
char char_of(int64_t id) {
  return id >= 2 && id < kVocabulary ? kCharacters[static_cast<size_t>(id - 2)] : '?';
}

struct Dates {
  std::vector<std::string> written, iso;
  Int32Tensor source;         // (N, 20) character ids, 0 after the text
  Int32Tensor decoder_input;  // (N, 10): <start>, then the ISO date's first 9 characters
  Tensor target;              // (N, 10): the ISO date's characters
};

Dates make_dates(int64_t count, uint64_t seed) {
  static const std::array<const char*, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  static const std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::mt19937_64 rng(seed);
  Dates dates{{},
              {},
              Int32Tensor({count, kSourceLength}),
              Int32Tensor({count, kTargetLength}),
              Tensor({count, kTargetLength})};
  for (int64_t n = 0; n < count; ++n) {
    const int year = std::uniform_int_distribution<int>(1950, 2049)(rng);
    const int month = std::uniform_int_distribution<int>(1, 12)(rng);
    const int day =
        std::uniform_int_distribution<int>(1, kDays[static_cast<size_t>(month - 1)])(rng);
    const std::string name = kMonths[static_cast<size_t>(month - 1)];
    const std::string y = std::to_string(year), d = std::to_string(day);
    char numeric[16], iso[16];
    std::snprintf(numeric, sizeof numeric, "%02d.%02d.%04d", day, month, year);
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", year, month, day);
    const std::array<std::string, 5> forms = {d + " " + name + " " + y, name + " " + d + ", " + y,
                                              d + " " + name.substr(0, 3) + " " + y, numeric,
                                              name.substr(0, 3) + " " + d + " " + y};
    const std::string& text = forms[std::uniform_int_distribution<size_t>(0, 4)(rng)];
    dates.written.push_back(text);
    dates.iso.push_back(iso);
    for (size_t t = 0; t < text.size(); ++t)
      dates.source(n, static_cast<int64_t>(t)) = id_of(text[t]);
    for (int64_t t = 0; t < kTargetLength; ++t) {
      const int32_t id = id_of(iso[t]);
      dates.target(n, t) = static_cast<float>(id);
      if (t + 1 < kTargetLength) dates.decoder_input(n, t + 1) = id;
    }
    dates.decoder_input(n, 0) = kStart;
  }
  return dates;
}

// The model to train, and one sharing its layers whose output is the attention scores.
struct Seq2Seq {
  Model model;
  Model alignment;
};

Seq2Seq seq2seq(bool luong) {
  using kattn::make_layer;
  auto source =
      kattn::Input({.shape = {kSourceLength}, .dtype = kattn::DType::kInt32, .name = "source"});
  auto decoder_tokens = kattn::Input(
      {.shape = {kTargetLength}, .dtype = kattn::DType::kInt32, .name = "decoder_tokens"});
  const KerasTensor source_embedded = make_layer<kattn::Embedding>(
      {.input_dim = kVocabulary, .output_dim = 32, .mask_zero = true, .name = "source_embedding"})(
      source);
  const KerasTensor target_embedded = make_layer<kattn::Embedding>(
      {.input_dim = kVocabulary, .output_dim = 32, .name = "target_embedding"})(decoder_tokens);
  const kattn::RNNOptions encoder_options{.return_sequences = true, .return_state = true};
  const std::vector<KerasTensor> encoder =
      luong ? make_layer<kattn::LSTM>({.units = kUnits, .rnn = encoder_options, .name = "encoder"})
                  .call({source_embedded})
            : make_layer<kattn::GRU>({.units = kUnits, .rnn = encoder_options, .name = "encoder"})
                  .call({source_embedded});
  const kattn::SymbolicKwargs from_encoder{
      {"initial_state", std::vector<KerasTensor>(encoder.begin() + 1, encoder.end())}};
  const kattn::RNNOptions decoder_options{.return_sequences = true};
  const KerasTensor decoded =
      luong ? make_layer<kattn::LSTM>({.units = kUnits, .rnn = decoder_options, .name = "decoder"})(
                  target_embedded, from_encoder)
            : make_layer<kattn::GRU>({.units = kUnits, .rnn = decoder_options, .name = "decoder"})(
                  target_embedded, from_encoder);
  const kattn::SymbolicLayer attention =
      luong ? kattn::SymbolicLayer(std::make_shared<kattn::Attention>(
                  kattn::Attention::Args{.name = "luong_attention"}))
            : kattn::SymbolicLayer(std::make_shared<kattn::AdditiveAttention>(
                  kattn::AdditiveAttention::Args{.name = "bahdanau_attention"}));
  const std::vector<KerasTensor> masks{decoder_tokens != 0, source != 0};
  const KerasTensor attended = attention({decoded, encoder[0]}, {{"mask", masks}});
  const KerasTensor scores =
      attention.call({std::vector<KerasTensor>{decoded, encoder[0]}},
                     {{"mask", masks}, {"return_attention_scores", true}})[1];
  const KerasTensor joined =
      make_layer<kattn::Concatenate>({.name = "concat"})({decoded, attended});
  const KerasTensor probabilities = make_layer<kattn::TimeDistributed>(
      {.layer = std::make_shared<kattn::Dense>(
           kattn::Dense::Args{.units = kVocabulary,
                              .activation = kattn::ActivationFunction("softmax"),
                              .name = "next_character"})})(joined);
  const std::string name = luong ? "luong" : "bahdanau";
  return {Model({source, decoder_tokens}, {probabilities}, name),
          Model({source, decoder_tokens}, {scores}, name + "_alignment")};
}

// Greedy decoding: step t feeds <start> and the characters chosen at steps before t.
Int32Tensor decode(const Model& model, const Int32Tensor& source) {
  const int64_t count = source.dim(0);
  Int32Tensor decoder_input({count, kTargetLength}), chosen({count, kTargetLength});
  for (int64_t n = 0; n < count; ++n) decoder_input(n, 0) = kStart;
  for (int64_t t = 0; t < kTargetLength; ++t) {
    const Tensor probabilities = std::get<Tensor>(model.predict({source, decoder_input}).front());
    for (int64_t n = 0; n < count; ++n) {
      const float* row = probabilities.data() + (n * kTargetLength + t) * kVocabulary;
      const auto best = static_cast<int32_t>(std::max_element(row, row + kVocabulary) - row);
      chosen(n, t) = best;
      if (t + 1 < kTargetLength) decoder_input(n, t + 1) = best;
    }
  }
  return chosen;
}

std::string text_of(const Int32Tensor& ids, int64_t row) {
  std::string text;
  for (int64_t t = 0; t < ids.dim(1); ++t) text += char_of(ids(row, t));
  return text;
}

// The alignment of held-out date `row` as decoded: scores (10, length of the written date).
void draw_alignment(const Seq2Seq& s2s, const Dates& dates, const Int32Tensor& decoded, int64_t row,
                    const std::filesystem::path& path) {
  Int32Tensor source({1, kSourceLength}), decoder_input({1, kTargetLength});
  for (int64_t t = 0; t < kSourceLength; ++t) source(0, t) = dates.source(row, t);
  decoder_input(0, 0) = kStart;
  for (int64_t t = 0; t + 1 < kTargetLength; ++t) decoder_input(0, t + 1) = decoded(row, t);
  const Tensor scores = std::get<Tensor>(s2s.alignment.predict({source, decoder_input}).front());
  const std::string& written = dates.written[static_cast<size_t>(row)];
  const auto columns = static_cast<int64_t>(written.size());
  Tensor weights({kTargetLength, columns});
  for (int64_t i = 0; i < kTargetLength; ++i) {
    for (int64_t j = 0; j < columns; ++j) weights(i, j) = scores(0, i, j);
  }
  std::vector<std::string> input_labels, output_labels;
  for (const char c : written) input_labels.emplace_back(1, c);
  for (const char c : text_of(decoded, row)) output_labels.emplace_back(1, c);
  kattn::write_heat_map_png(path, weights,
                            {.column_labels = input_labels, .row_labels = output_labels});
  std::filesystem::path weights_path = path;
  kattn::write_npy(weights_path.replace_extension(".npy"), weights);
}

// Trains one model, prints what it learned; true when it decodes above chance.
bool train(bool luong, const Dates& train_set, const Dates& held_out, int64_t epochs,
           const std::filesystem::path& out_dir) {
  Seq2Seq s2s = seq2seq(luong);
  const char* name = luong ? "luong" : "bahdanau";
  std::printf("== %s: %s encoder-decoder with %s\n", name, luong ? "LSTM" : "GRU",
              luong ? "Attention (Luong)" : "AdditiveAttention (Bahdanau)");
  s2s.model.compile(
      {.optimizer = std::make_shared<kattn::Adam>(kattn::Adam::Args{.learning_rate = 0.01}),
       .loss = std::make_shared<kattn::SparseCategoricalCrossentropy>()});
  s2s.model.fit(
      {train_set.source, train_set.decoder_input}, {train_set.target},
      {.batch_size = 64,
       .epochs = epochs,
       .verbose = kattn::FitArgs::Verbose::kLine,
       .seed = 1,
       .validation_x = std::vector<kattn::AnyTensor>{held_out.source, held_out.decoder_input},
       .validation_y = std::vector<Tensor>{held_out.target}});
  const Int32Tensor decoded = decode(s2s.model, held_out.source);
  int64_t exact = 0;
  for (int64_t n = 0; n < decoded.dim(0); ++n) {
    exact += text_of(decoded, n) == held_out.iso[static_cast<size_t>(n)];
  }
  const double accuracy = static_cast<double>(exact) / static_cast<double>(decoded.dim(0));
  std::printf("%s: held-out exact match %.4f (%lld of %lld dates; chance: about 1e-7)\n", name,
              accuracy, static_cast<long long>(exact), static_cast<long long>(decoded.dim(0)));
  for (int64_t n = 0; n < 3; ++n) {
    std::printf("  %-20s -> %s\n", held_out.written[static_cast<size_t>(n)].c_str(),
                text_of(decoded, n).c_str());
  }
  const std::filesystem::path model_path = out_dir / (std::string(name) + ".keras");
  kattn::save_model(s2s.model, model_path);
  const std::filesystem::path png = out_dir / (std::string(name) + "_alignment.png");
  draw_alignment(s2s, held_out, decoded, 0, png);
  std::printf("saved %s and %s\n", model_path.c_str(), png.c_str());
  return accuracy >= 0.001;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : "seq2seq_attention_out";
  const int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 12;
  const int64_t samples = argc > 3 ? std::atoll(argv[3]) : 6000;
  try {
    std::filesystem::create_directories(out_dir);
    kattn::set_random_seed(1);  // the same initial weights, and so the same runs, every time
    const Dates train_set = make_dates(samples, 1);
    const Dates held_out = make_dates(1000, 2);
    const bool luong = train(true, train_set, held_out, epochs, out_dir);
    const bool bahdanau = train(false, train_set, held_out, epochs, out_dir);
    return luong && bahdanau ? 0 : 1;
  } catch (const kattn::Error& e) {
    std::cerr << "seq2seq_attention: " << e.what() << "\n";
    return 2;
  }
}
