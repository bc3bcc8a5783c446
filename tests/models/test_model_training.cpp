// Training functional models: Model::compile / train_on_batch / fit / evaluate. The model's
// gradients are read back from one plain SGD step (learning rate 1: w' = w - dL/dw) and
// checked against central differences of the loss evaluate() reports.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "kattn/core/random.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::message_of;

Tensor random_tensor(Shape shape, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = normal(rng);
  return t;
}

// tokens (B, 6) -> Embedding(mask_zero) -> MultiHeadAttention (self, causal) -> pooling over
// the unmasked steps -> Dense(3, tanh) -> Dense(1): every operation kind of an attention model
// on the gradient's path, Keras masks included.
Model attention_regressor(Config kernel_regularizer = nullptr, Config kernel_constraint = nullptr) {
  auto ids = Input({.shape = {6}, .dtype = DType::kInt32, .name = "tokens"});
  KerasTensor x = make_layer<Embedding>(
      {.input_dim = 12, .output_dim = 4, .mask_zero = true, .name = "embed"})(ids);
  x = make_layer<MultiHeadAttention>({.num_heads = 2, .key_dim = 3, .name = "mha"})(
      x, x, {{"use_causal_mask", true}});
  x = make_layer<GlobalAveragePooling1D>({.name = "pool"})(x);
  x = make_layer<Dense>({.units = 3,
                         .activation = ActivationFunction("tanh"),
                         .kernel = {.regularizer = std::move(kernel_regularizer),
                                    .constraint = std::move(kernel_constraint)},
                         .name = "hidden"})(x);
  x = make_layer<Dense>({.units = 1, .name = "out"})(x);
  return Model(ids, x, "regressor");
}

struct Batch {
  Int32Tensor tokens{Shape{4, 6}};
  Tensor targets = random_tensor({4, 1}, 7);
  Batch() {
    const int32_t ids[24] = {3, 5, 1, 0, 0, 0, 2, 2, 7,  9, 11, 4,
                             6, 0, 0, 0, 0, 0, 1, 8, 10, 3, 5,  0};
    std::copy(ids, ids + 24, tokens.data());
  }
};

// Every weight of the model, by layer name, as (layer, index) pairs.
std::vector<std::pair<Layer*, size_t>> all_weights(const Model& model) {
  std::vector<std::pair<Layer*, size_t>> out;
  for (const char* name : {"embed", "mha", "hidden", "out"}) {
    Layer& layer = model.get_layer(name);
    for (size_t i = 0; i < layer.weights().size(); ++i) out.emplace_back(&layer, i);
  }
  return out;
}

TEST(ModelTraining, OneSgdStepFollowsTheLossGradient) {
  Model model = attention_regressor();
  const Batch batch;
  // Biases away from zero, so no gradient is trivially zero.
  uint64_t seed = 11;
  for (auto [layer, index] : all_weights(model)) {
    layer->set_weight(layer->weights()[index].name,
                      random_tensor(layer->weights()[index].value.shape(), seed++, 0.5f));
  }
  model.compile({.optimizer = std::make_shared<SGD>(SGD::Args{.learning_rate = 1.0}),
                 .loss = std::make_shared<MeanSquaredError>()});
  const auto loss = [&] { return model.evaluate({batch.tokens}, {batch.targets}, 4).at("loss"); };

  std::vector<Tensor> before, numeric;
  for (auto [layer, index] : all_weights(model)) {
    Tensor w = layer->weights()[index].value.clone();
    Tensor g(w.shape());
    for (int64_t e = 0; e < w.size(); ++e) {
      const float saved = w.data()[e];
      const float step = 1e-2f;
      w.data()[e] = saved + step;
      layer->set_weight(layer->weights()[index].name, w);
      const double plus = loss();
      w.data()[e] = saved - step;
      layer->set_weight(layer->weights()[index].name, w);
      const double minus = loss();
      w.data()[e] = saved;
      layer->set_weight(layer->weights()[index].name, w);
      g.data()[e] = static_cast<float>((plus - minus) / (2.0 * step));
    }
    before.push_back(w);
    numeric.push_back(g);
  }

  model.train_on_batch({batch.tokens}, {batch.targets});
  size_t k = 0;
  for (auto [layer, index] : all_weights(model)) {
    const Tensor& after = layer->weights()[index].value;
    for (int64_t e = 0; e < after.size(); ++e) {
      const double analytic = before[k].data()[e] - after.data()[e];
      EXPECT_NEAR(analytic, numeric[k].data()[e], 3e-3 + 3e-2 * std::abs(numeric[k].data()[e]))
          << layer->name() << "/" << layer->weights()[index].name << " element " << e;
    }
    ++k;
  }
}

TEST(ModelTraining, TrainOnBatchReportsTheLossBeforeTheStep) {
  Model model = attention_regressor();
  const Batch batch;
  model.compile(
      {.optimizer = std::make_shared<SGD>(), .loss = std::make_shared<MeanSquaredError>()});
  const double evaluated = model.evaluate({batch.tokens}, {batch.targets}, 4).at("loss");
  const Logs logs = model.train_on_batch({batch.tokens}, {batch.targets});
  EXPECT_NEAR(logs.at("loss"), evaluated, 1e-6);
  EXPECT_LT(model.evaluate({batch.tokens}, {batch.targets}, 4).at("loss"), evaluated);
}

TEST(ModelTraining, WeightRegularizersAddToTheLossAndItsGradient) {
  const Config l2 = {{"module", "keras.regularizers"},
                     {"class_name", "L2"},
                     {"config", {{"l2", 0.25}}},
                     {"registered_name", nullptr}};
  Model model = attention_regressor(l2);
  const Batch batch;
  model.compile({.optimizer = std::make_shared<SGD>(SGD::Args{.learning_rate = 1.0}),
                 .loss = std::make_shared<MeanSquaredError>()});
  Model plain = attention_regressor();
  plain.load_weights(model.weight_store());
  plain.compile({.optimizer = std::make_shared<SGD>(SGD::Args{.learning_rate = 1.0}),
                 .loss = std::make_shared<MeanSquaredError>()});

  const Tensor kernel = model.get_layer("hidden").weight("kernel").clone();
  double penalty = 0;
  for (int64_t i = 0; i < kernel.size(); ++i) penalty += 0.25 * kernel.data()[i] * kernel.data()[i];
  const Logs with = model.train_on_batch({batch.tokens}, {batch.targets});
  const Logs without = plain.train_on_batch({batch.tokens}, {batch.targets});
  EXPECT_NEAR(with.at("loss"), without.at("loss") + penalty, 1e-5);
  // The regularized step moved the kernel by an extra 2 * 0.25 * w.
  const Tensor& a = model.get_layer("hidden").weight("kernel");
  const Tensor& b = plain.get_layer("hidden").weight("kernel");
  for (int64_t i = 0; i < kernel.size(); ++i) {
    EXPECT_NEAR(b.data()[i] - a.data()[i], 0.5f * kernel.data()[i], 1e-5);
  }
}

TEST(ModelTraining, ActivityRegularizersPenaliseTheLayerOutput) {
  const auto build = [](Config activity) {
    auto x = Input({.shape = {3}, .name = "x"});
    auto y = make_layer<Dense>(
        {.units = 2, .activity_regularizer = std::move(activity), .name = "dense"})(x);
    Model model(x, y, "linear");
    model.compile({.optimizer = std::make_shared<SGD>(SGD::Args{.learning_rate = 1.0}),
                   .loss = std::make_shared<MeanSquaredError>()});
    return model;
  };
  Model with = build("l2");  // Keras's "l2": L2(0.01)
  Model without = build(nullptr);
  without.load_weights(with.weight_store());
  const Tensor x = random_tensor({4, 3}, 3), y = random_tensor({4, 2}, 4);
  const Tensor out = std::get<Tensor>(with.predict({x}).front());
  const Tensor kernel = with.get_layer("dense").weight("kernel").clone();
  double penalty = 0;
  for (int64_t i = 0; i < out.size(); ++i) penalty += 0.01 * out.data()[i] * out.data()[i];

  EXPECT_NEAR(with.train_on_batch({x}, {y}).at("loss"),
              without.train_on_batch({x}, {y}).at("loss") + penalty, 1e-5);
  // The penalty's gradient on the kernel: x^T (2 * 0.01 * out), one SGD step of rate 1 apart.
  const Tensor& a = with.get_layer("dense").weight("kernel");
  const Tensor& b = without.get_layer("dense").weight("kernel");
  for (int64_t d = 0; d < 3; ++d) {
    for (int64_t u = 0; u < 2; ++u) {
      double expected = 0;
      for (int64_t r = 0; r < 4; ++r) expected += x(r, d) * 0.02 * out(r, u);
      EXPECT_NEAR(b(d, u) - a(d, u), expected, 1e-5) << d << ", " << u;
    }
  }
  EXPECT_NE(kernel.to_vector(), a.to_vector());
}

TEST(ModelTraining, ConstraintsApplyAfterEachStep) {
  const Config non_neg = {{"module", "keras.constraints"},
                          {"class_name", "NonNeg"},
                          {"config", Config::object()},
                          {"registered_name", nullptr}};
  Model model = attention_regressor(nullptr, non_neg);
  const Batch batch;
  model.compile({.optimizer = std::make_shared<SGD>(SGD::Args{.learning_rate = 1.0}),
                 .loss = std::make_shared<MeanSquaredError>()});
  model.train_on_batch({batch.tokens}, {batch.targets});
  const Tensor& kernel = model.get_layer("hidden").weight("kernel");
  bool some_positive = false;
  for (int64_t i = 0; i < kernel.size(); ++i) {
    EXPECT_GE(kernel.data()[i], 0.0f);
    some_positive = some_positive || kernel.data()[i] > 0.0f;
  }
  EXPECT_TRUE(some_positive);
}

TEST(ModelTraining, FitLowersTheLossAndKeepsAHistory) {
  set_random_seed(1);  // initial weights that learn, the same on every run
  Model model = attention_regressor();
  Batch batch;
  model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{.learning_rate = 0.02}),
                 .loss = std::make_shared<MeanSquaredError>()});
  std::ostringstream progress;
  const History history = model.fit({batch.tokens}, {batch.targets},
                                    {.batch_size = 2,
                                     .epochs = 30,
                                     .verbose = FitArgs::Verbose::kLine,
                                     .seed = 1,
                                     .progress = &progress});
  const std::vector<double>& losses = history.history.at("loss");
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_LT(losses.back(), 0.5 * losses.front());
  // One line per epoch: "Epoch 1/30 - 0.01s - loss: 0.1234"
  std::istringstream lines(progress.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind("Epoch " + std::to_string(++count) + "/30 - ", 0), 0u) << line;
    EXPECT_NE(line.find(" - loss: "), std::string::npos) << line;
  }
  EXPECT_EQ(count, 30);

  std::ostringstream quiet;
  model.fit({batch.tokens}, {batch.targets}, {.epochs = 2, .progress = &quiet});
  EXPECT_EQ(quiet.str(), "");  // kAuto writes to a terminal only
}

TEST(ModelTraining, RefusesBadCalls) {
  Model model = attention_regressor();
  const Batch batch;
  EXPECT_NE(message_of<ValueError>([&] {
              model.train_on_batch({batch.tokens}, {batch.targets});
            }).find("must be compiled"),
            std::string::npos);
  EXPECT_NE(message_of<ValueError>([&] {
              model.compile({.loss = std::make_shared<MeanSquaredError>()});
            }).find("compile() needs an optimizer"),
            std::string::npos);
  EXPECT_NE(message_of<ValueError>([&] {
              model.compile({.optimizer = std::make_shared<SGD>(),
                             .loss = std::make_shared<MeanSquaredError>(),
                             .metrics = {"accuracy"}});
            }).find("cannot tell which accuracy"),
            std::string::npos);
  model.compile(
      {.optimizer = std::make_shared<SGD>(), .loss = std::make_shared<MeanSquaredError>()});
  EXPECT_NE(message_of<ValueError>([&] {
              model.train_on_batch({batch.tokens}, {batch.targets, batch.targets});
            }).find("wrong number of targets"),
            std::string::npos);
  EXPECT_NE(message_of<ValueError>([&] {
              model.train_on_batch({batch.tokens}, {Tensor({3, 1})});
            }).find("differ in their number of samples"),
            std::string::npos);
}

}  // namespace
}  // namespace kattn
