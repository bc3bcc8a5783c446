// Keras 3.16's SGD, Adam and AdamW: the trajectories keras/src/optimizers/*_test.py pins,
// three-step trajectories worked through Keras's update rules in float32, clipping, weight
// decay, configs and every validation message.
//
// The exact trajectories below were obtained by applying each line of Keras's update_step to
// float32 values, rounding after every operation, as Keras's float32 variables do.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "error_test_util.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/training/optimizers.hpp"

namespace kattn {
namespace {

using testing::message_of;

void expect_values(const Tensor& tensor, const std::vector<float>& expected, float tolerance,
                   const std::string& what) {
  ASSERT_EQ(tensor.size(), static_cast<int64_t>(expected.size())) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(tensor.data()[i], expected[i], tolerance) << what << " [" << i << "]";
  }
}

// The three gradients of the worked trajectories, for a variable starting at [1, 2, -3].
const std::vector<std::vector<float>> kGradients = {
    {1.0f, -2.0f, 0.5f}, {0.5f, 0.5f, -1.0f}, {-1.5f, 1.0f, 2.0f}};

std::vector<std::vector<float>> run(Optimizer& optimizer,
                                    const std::vector<std::vector<float>>& gradients) {
  Tensor variable({3}, {1.0f, 2.0f, -3.0f});
  std::vector<std::vector<float>> trajectory;
  for (const auto& g : gradients) {
    optimizer.apply_gradients({&variable}, {Tensor({3}, g)});
    trajectory.push_back(variable.to_vector());
  }
  return trajectory;
}

// keras test_correctness_with_golden: first gradient 0.01 everywhere, then arange(0.1, 1.1, 0.1)
// four times, on ten ones; the golden rows are checked before each of the later steps.
std::vector<std::vector<float>> golden_run(Optimizer& optimizer) {
  Tensor x = Tensor::full({10}, 1.0f);
  std::vector<float> ramp;
  for (int i = 1; i <= 10; ++i) ramp.push_back(static_cast<float>(0.1 * i));
  std::vector<std::vector<float>> rows;
  optimizer.apply_gradients({&x}, {Tensor::full({10}, 0.01f)});
  for (int step = 0; step < 5; ++step) {
    rows.push_back(x.to_vector());
    optimizer.apply_gradients({&x}, {Tensor({10}, ramp)});
  }
  return rows;
}

TEST(OptimizerSgd, KerasSingleStepAndGolden) {
  SGD sgd({.learning_rate = 0.5});
  Tensor variable({4}, {1, 2, 3, 4});
  sgd.apply_gradients({&variable}, {Tensor({4}, {1, 6, 7, 2})});
  expect_values(variable, {0.5f, -1.0f, -0.5f, 3.0f}, 1e-6f, "single step");
  EXPECT_EQ(sgd.iterations(), 1);
  EXPECT_TRUE(sgd.momentums().empty());  // momentum 0 creates no slots

  // SGD(nesterov=True) with momentum 0 is plain gradient descent at 0.01.
  SGD golden({.nesterov = true});
  const auto rows = golden_run(golden);
  const float expected[5][2] = {{0.9999f, 0.9999f},
                                {0.9989f, 0.9899f},
                                {0.9979f, 0.9799f},
                                {0.9969f, 0.9699f},
                                {0.9959f, 0.9599f}};
  for (size_t r = 0; r < 5; ++r) {
    EXPECT_NEAR(rows[r][0], expected[r][0], 5e-4f) << r;
    EXPECT_NEAR(rows[r][9], expected[r][1], 5e-4f) << r;
  }
}

TEST(OptimizerSgd, MomentumThreeSteps) {
  // m = 0.9 m - 0.1 g; var += m.
  //   step 1: m = -0.1 g1 = [-0.1, 0.2, -0.05]         -> [0.9, 2.2, -3.05]
  //   step 2: m = 0.9 m - 0.1 g2 = [-0.14, 0.13, 0.055] -> [0.76, 2.33, -2.995]
  //   step 3: m = [0.024, 0.017, -0.1505]              -> [0.784, 2.347, -3.1455]
  SGD sgd({.learning_rate = 0.1, .momentum = 0.9});
  const auto t = run(sgd, kGradients);
  const std::vector<std::vector<float>> expected = {
      {0.9f, 2.2f, -3.05f}, {0.76f, 2.33f, -2.995f}, {0.784f, 2.347f, -3.1455f}};
  for (size_t s = 0; s < 3; ++s) {
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(t[s][k], expected[s][k], 2e-7f) << s << k;
  }
  // The float32 values themselves.
  EXPECT_FLOAT_EQ(t[2][0], 0.7839999794960022f);
  EXPECT_FLOAT_EQ(t[2][2], -3.1454999446868896f);
  ASSERT_EQ(sgd.momentums().size(), 1u);
  EXPECT_NEAR(sgd.momentums()[0].data()[2], -0.1505f, 1e-7f);
}

TEST(OptimizerSgd, NesterovThreeSteps) {
  // m = 0.9 m - 0.1 g; var += 0.9 m - 0.1 g.
  //   step 1: m = [-0.1, 0.2, -0.05]; var += [-0.19, 0.38, -0.095] -> [0.81, 2.38, -3.095]
  //   step 2: m = [-0.14, 0.13, 0.055]; var += [-0.176, 0.067, 0.1495] -> [0.634, 2.447, -2.9455]
  //   step 3: m = [0.024, 0.017, -0.1505]; var += [0.1716, -0.0847, -0.33545]
  //           -> [0.8056, 2.3623, -3.28095]
  SGD sgd({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  const auto t = run(sgd, kGradients);
  const std::vector<std::vector<float>> expected = {
      {0.81f, 2.38f, -3.095f}, {0.634f, 2.447f, -2.9455f}, {0.8056f, 2.3623f, -3.28095f}};
  for (size_t s = 0; s < 3; ++s) {
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(t[s][k], expected[s][k], 3e-7f) << s << k;
  }
  EXPECT_FLOAT_EQ(t[2][0], 0.8056000471115112f);
  EXPECT_FLOAT_EQ(t[2][2], -3.280949831008911f);
}

TEST(OptimizerSgd, WeightDecayChain) {
  // keras test_weight_decay: zero gradients, three optimizers at lr 1 and weight decay 0.004
  // on var1 = 2: 2 * 0.996^3 = 1.9760959; excluded variables keep 2.
  Tensor var1 = Tensor::full({}, 2.0f);
  Tensor var2 = Tensor::full({}, 2.0f);
  Tensor var3 = Tensor::full({}, 2.0f);
  const Tensor zero({}, {0.0f});
  SGD first({.learning_rate = 1.0, .weight_decay = 0.004});
  first.apply_gradients({&var1}, {zero});
  SGD second({.learning_rate = 1.0, .weight_decay = 0.004});
  second.exclude_from_weight_decay({1});
  second.apply_gradients({&var1, &var2}, {zero, zero});
  SGD third({.learning_rate = 1.0, .weight_decay = 0.004});
  third.exclude_from_weight_decay({1});
  third.apply_gradients({&var1, &var3}, {zero, zero});
  EXPECT_FLOAT_EQ(var1.data()[0], 1.9760959f);
  EXPECT_EQ(var2.data()[0], 2.0f);
  EXPECT_EQ(var3.data()[0], 2.0f);
}

TEST(OptimizerAdam, KerasSingleStepWeightDecayAndGolden) {
  // One step with lr 0.5: m = 0.1 g, v = 0.001 g^2, alpha = 0.5 sqrt(0.001) / 0.1, so each
  // entry moves by about 0.5 against the sign of its gradient.
  Adam adam({.learning_rate = 0.5});
  Tensor variable({4}, {1, 2, 3, 4});
  adam.apply_gradients({&variable}, {Tensor({4}, {1, 6, 7, 2})});
  expect_values(variable, {0.5f, 1.5f, 2.5f, 3.5f}, 1e-4f, "single step");

  Tensor var1 = Tensor::full({}, 2.0f);
  const Tensor zero({}, {0.0f});
  for (int i = 0; i < 3; ++i) {
    // Zero gradients leave m = v = 0: only the decay moves the variable.
    Adam decayed({.learning_rate = 1.0, .weight_decay = 0.004});
    decayed.apply_gradients({&var1}, {zero});
  }
  EXPECT_FLOAT_EQ(var1.data()[0], 1.9760959f);

  Adam golden({.amsgrad = true});
  const auto rows = golden_run(golden);
  const float expected[5] = {0.999f, 0.9982f, 0.9974f, 0.9965f, 0.9955f};
  for (size_t r = 0; r < 5; ++r) {
    for (float value : rows[r]) EXPECT_NEAR(value, expected[r], 5e-4f) << r;
  }
}

TEST(OptimizerAdam, ThreeSteps) {
  // lr 0.1, beta_1 0.9, beta_2 0.999, epsilon 1e-7; t = 1, 2, 3:
  //   alpha_t = 0.1 sqrt(1 - 0.999^t) / (1 - 0.9^t)
  //   step 1: m = 0.1 g1, v = 0.001 g1^2, so var -= 0.1 sign(g1) (up to epsilon)
  //           -> [0.9, 2.1, -3.1]
  //   step 2: m = 0.09 g1 + 0.1 g2, v = 0.000999 g1^2 + 0.001 g2^2
  //   step 3: likewise with g3
  Adam adam({.learning_rate = 0.1});
  const auto t = run(adam, kGradients);
  const std::vector<std::vector<float>> expected = {
      {0.9000009894371033f, 2.099999189376831f, -3.099998712539673f},
      {0.8067842125892639f, 2.1469454765319824f, -3.0633888244628906f},
      {0.8149818778038025f, 2.151688814163208f, -3.105354070663452f}};
  for (size_t s = 0; s < 3; ++s) {
    for (size_t k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(t[s][k], expected[s][k]) << s << k;
  }
  // Steps 1 and 2 by hand in double: m = [0.14, -0.13, -0.055], v = [0.001249, 0.004246,
  // 0.00124975], alpha_2 = 0.1 sqrt(0.001999) / 0.19. Keras's float32 beta_2 is 0.99900001,
  // which moves 1 - beta_2^t by about 1e-5 relative, hence the looser tolerance.
  const double alpha_1 = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9);
  const double var_1 = 1.0 - 0.1 * alpha_1 / (std::sqrt(0.001) + 1e-7);
  const double alpha = 0.1 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
  const double m = 0.9 * 0.1 * 1.0 + 0.1 * 0.5;
  const double v = 0.999 * 0.001 * 1.0 + 0.001 * 0.25;
  EXPECT_NEAR(t[0][0], var_1, 1e-6);
  EXPECT_NEAR(t[1][0], var_1 - m * alpha / (std::sqrt(v) + 1e-7), 3e-6);
  EXPECT_NEAR(adam.momentums()[0].data()[0], 0.9 * m + 0.1 * -1.5, 1e-7);
  EXPECT_TRUE(adam.velocity_hats().empty());
}

TEST(OptimizerAdam, AmsgradKeepsTheLargestVelocity) {
  // beta_2 = 0.5 makes v fall after the large first gradient; amsgrad divides by the kept
  // maximum instead, so its steps are smaller.
  const std::vector<std::vector<float>> gradients = {
      {2.0f, -2.0f, 1.0f}, {0.1f, 0.1f, -0.1f}, {0.1f, -0.1f, 0.1f}};
  Adam plain({.learning_rate = 0.1, .beta_2 = 0.5});
  Adam amsgrad({.learning_rate = 0.1, .beta_2 = 0.5, .amsgrad = true});
  const auto a = run(plain, gradients);
  const auto b = run(amsgrad, gradients);
  const std::vector<float> plain_last = {0.7259141206741333f, 2.2562708854675293f,
                                         -3.249966859817505f};
  const std::vector<float> amsgrad_last = {0.794585645198822f, 2.194575071334839f,
                                           -3.191596031188965f};
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_FLOAT_EQ(a[0][k], b[0][k]);  // identical until v first decreases
    EXPECT_FLOAT_EQ(a[2][k], plain_last[k]);
    EXPECT_FLOAT_EQ(b[2][k], amsgrad_last[k]);
  }
  ASSERT_EQ(amsgrad.velocity_hats().size(), 1u);
  // v_hat holds step 1's v = 0.5 * 4 = 2 for the first entry.
  EXPECT_FLOAT_EQ(amsgrad.velocity_hats()[0].data()[0], 2.0f);
  EXPECT_LT(amsgrad.velocities()[0].data()[0], 2.0f);
}

TEST(OptimizerAdamW, KerasSingleStepAndGolden) {
  // Decay first (var *= 1 - 0.004 * 0.5), then the Adam step of about 0.5.
  AdamW adamw({.learning_rate = 0.5});
  Tensor variable({4}, {1, 2, 3, 4});
  adamw.apply_gradients({&variable}, {Tensor({4}, {1, 6, 7, 2})});
  expect_values(variable, {0.4980f, 1.4960f, 2.494f, 3.492f}, 1e-4f, "single step");
  EXPECT_FLOAT_EQ(variable.data()[0], 0.4980049729347229f);

  AdamW golden({.learning_rate = 1.0, .weight_decay = 0.5, .epsilon = 2});
  const auto rows = golden_run(golden);
  const float expected[5][10] = {
      {0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f, 0.4998f},
      {0.2486f, 0.2475f, 0.2463f, 0.2451f, 0.244f, 0.2428f, 0.2417f, 0.2405f, 0.2394f, 0.2382f},
      {0.1223f, 0.1198f, 0.1174f, 0.1149f, 0.1124f, 0.11f, 0.1075f, 0.1051f, 0.1027f, 0.1003f},
      {0.0586f, 0.0549f, 0.0512f, 0.0475f, 0.0439f, 0.0402f, 0.0366f, 0.033f, 0.0294f, 0.0258f},
      {0.0263f, 0.0215f, 0.0167f, 0.012f, 0.0073f, 0.0026f, -0.0021f, -0.0067f, -0.0113f,
       -0.0159f}};
  for (size_t r = 0; r < 5; ++r) {
    for (size_t k = 0; k < 10; ++k) EXPECT_NEAR(rows[r][k], expected[r][k], 5e-4f) << r << k;
  }
}

TEST(OptimizerAdamW, ThreeStepsDecayBeforeTheUpdate) {
  // weight_decay 0.1, lr 0.1: each step first scales the variable by 1 - 0.01, then applies
  // the Adam step of OptimizerAdam.ThreeSteps (same gradients, so the same m, v and alpha).
  //   step 1: [1, 2, -3] * 0.99 = [0.99, 1.98, -2.97], then -0.1 sign(g1) -> [0.89, 2.08, -3.07]
  AdamW adamw({.learning_rate = 0.1, .weight_decay = 0.1});
  const auto t = run(adamw, kGradients);
  const std::vector<std::vector<float>> expected = {
      {0.8900009989738464f, 2.0799992084503174f, -3.0699987411499023f},
      {0.7878842353820801f, 2.1061456203460693f, -3.0026888847351074f},
      {0.7882030606269836f, 2.089827537536621f, -3.01462721824646f}};
  for (size_t s = 0; s < 3; ++s) {
    for (size_t k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(t[s][k], expected[s][k]) << s << k;
  }
  // Excluded positions skip the decay but not the update: exactly Adam's trajectory.
  AdamW excluded({.learning_rate = 0.1, .weight_decay = 0.1});
  excluded.exclude_from_weight_decay({0});
  Adam adam({.learning_rate = 0.1});
  const auto e = run(excluded, kGradients);
  const auto a = run(adam, kGradients);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(e[2][k], a[2][k]);
}

TEST(OptimizerBase, Clipping) {
  // keras test_clip_norm / test_clip_value / test_global_clip_norm.
  const std::vector<Tensor> hundred = {Tensor({2}, {100.0f, 100.0f})};
  expect_values(SGD({.base = {.clipnorm = 1.0}}).clip_gradients(hundred)[0],
                {0.70710677f, 0.70710677f}, 1e-7f, "clipnorm");
  expect_values(SGD({.base = {.clipvalue = 1.0}}).clip_gradients(hundred)[0], {1.0f, 1.0f}, 0,
                "clipvalue");
  const std::vector<Tensor> grad = {Tensor({2}, {50.0f, 100.0f})};
  const double norm = std::sqrt(50.0 * 50.0 + 100.0 * 100.0);
  expect_values(SGD({.base = {.global_clipnorm = 1.0}}).clip_gradients(grad)[0],
                {static_cast<float>(50 / norm), static_cast<float>(100 / norm)}, 1e-7f, "global");

  // clipnorm scales each gradient by its own norm; global_clipnorm by the norm of all.
  const std::vector<Tensor> two = {Tensor({2}, {3.0f, 4.0f}), Tensor({1}, {0.5f})};
  const auto per_variable = Adam({.base = {.clipnorm = 1.0}}).clip_gradients(two);
  expect_values(per_variable[0], {0.6f, 0.8f}, 1e-7f, "clipnorm first");
  expect_values(per_variable[1], {0.5f}, 1e-7f, "clipnorm second, below the norm");
  const auto global = Adam({.base = {.global_clipnorm = 2.0}}).clip_gradients(two);
  const double total = std::sqrt(25.25);
  expect_values(global[0], {static_cast<float>(6 / total), static_cast<float>(8 / total)}, 1e-6f,
                "global first");
  expect_values(global[1], {static_cast<float>(1 / total)}, 1e-6f, "global second");
  // An all-zero gradient stays zero; a value <= 0 disables clipping, as in Keras.
  expect_values(SGD({.base = {.clipnorm = 1.0}}).clip_gradients({Tensor({2})})[0], {0, 0}, 0,
                "zero");
  expect_values(SGD({.base = {.clipvalue = 0.0}}).clip_gradients(hundred)[0], {100.0f, 100.0f}, 0,
                "disabled");
  // An infinite global norm makes every gradient NaN (clip_by_global_norm's use_norm - use_norm).
  const auto infinite =
      SGD({.base = {.global_clipnorm = 1.0}}).clip_gradients({Tensor({2}, {INFINITY, 1.0f})});
  EXPECT_TRUE(std::isnan(infinite[0].data()[1]));

  // Clipping happens before the update: SGD lr 1 with clipvalue 1 moves by at most 1.
  SGD sgd({.learning_rate = 1.0, .base = {.clipvalue = 1.0}});
  Tensor variable({2}, {0.0f, 0.0f});
  sgd.apply_gradients({&variable}, {Tensor({2}, {5.0f, -0.25f})});
  expect_values(variable, {-1.0f, 0.25f}, 0, "clipped update");
}

TEST(OptimizerBase, LossScaleIterationsAndEmptyCalls) {
  // keras test_static_loss_scaling: gradients are divided by the scale first.
  SGD sgd({.learning_rate = 1.0, .base = {.loss_scale_factor = 1024.0}});
  Tensor variable({2, 2}, {1, 2, 3, 4});
  sgd.apply_gradients({&variable}, {Tensor({2, 2}, {1024, 2048, 3072, 4096})});
  expect_values(variable, {0, 0, 0, 0}, 0, "loss scale");

  // keras test_iterations_counter, through the (gradient, variable) pairs form.
  Adam adam({.learning_rate = 1.0});
  Tensor v({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(adam.iterations(), 0);
  EXPECT_FALSE(adam.built());
  adam.apply_gradients(std::vector<std::pair<Tensor, Tensor*>>{{Tensor::full({2, 2}, 1.0f), &v}});
  EXPECT_EQ(adam.iterations(), 1);
  adam.apply_gradients(std::vector<std::pair<Tensor, Tensor*>>{{Tensor::full({2, 2}, 1.0f), &v}});
  EXPECT_EQ(adam.iterations(), 2);
  // No gradients: a no-op that does not count.
  adam.apply_gradients(std::vector<Tensor*>{}, std::vector<Tensor>{});
  EXPECT_EQ(adam.iterations(), 2);

  // The learning rate is a float32 variable that can be set between steps.
  SGD settable({.learning_rate = 0.1});
  EXPECT_EQ(settable.learning_rate(), 0.1f);
  settable.set_learning_rate(2.0);
  Tensor w({1}, {1.0f});
  settable.apply_gradients({&w}, {Tensor({1}, {0.25f})});
  EXPECT_EQ(w.data()[0], 0.5f);
}

TEST(OptimizerBase, ValidationMessages) {
  EXPECT_EQ(message_of<ValueError>([] { SGD({.base = {.clipnorm = 0.1, .clipvalue = 0.1}}); }),
            "SGD 'SGD': Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            "Expected at most one of them set. Received: clipnorm=0.1, clipvalue=0.1, "
            "global_clipnorm=None.");
  EXPECT_THROW(SGD({.base = {.clipnorm = 0.1, .global_clipnorm = 0.1}}), ValueError);
  EXPECT_EQ(message_of<ValueError>([] { SGD({.momentum = 1.5}); }),
            "SGD 'SGD': `momentum` must be a float between [0, 1]. Expected 0 <= momentum <= 1. "
            "Received: momentum=1.5.");
  EXPECT_THROW(SGD({.momentum = -0.1}), ValueError);
  EXPECT_EQ(message_of<ValueError>([] { AdamW({.learning_rate = 1.0, .weight_decay = {}}); }),
            "AdamW 'adamw': Argument `weight_decay` must be a float. Expected a float. Received: "
            "weight_decay=None.");
  EXPECT_EQ(message_of<NotSupportedError>([] { Adam({.base = {.use_ema = true}}); }),
            "Adam 'adam': a moving average of the variables is not supported. Expected "
            "use_ema=False. Received: use_ema=True.");
  EXPECT_EQ(message_of<ValueError>([] { Adam({.base = {.use_ema = true, .ema_momentum = 1.5}}); }),
            "Adam 'adam': `ema_momentum` must be in the range [0, 1]. Expected 0 <= ema_momentum "
            "<= 1. Received: ema_momentum=1.5.");
  EXPECT_EQ(message_of<ValueError>(
                [] { Adam({.base = {.use_ema = true, .ema_overwrite_frequency = -2}}); }),
            "Adam 'adam': `ema_overwrite_frequency` must be an integer >= 1 or None. Expected an "
            "integer >= 1 or None. Received: ema_overwrite_frequency=-2.");
  EXPECT_EQ(message_of<ValueError>([] { SGD({.base = {.gradient_accumulation_steps = 1}}); }),
            "SGD 'SGD': `gradient_accumulation_steps` must be an integer >= 2. Expected an "
            "integer >= 2 or None. Received: gradient_accumulation_steps=1.");
  EXPECT_EQ(
      message_of<NotSupportedError>([] { SGD({.base = {.gradient_accumulation_steps = 3}}); }),
      "SGD 'SGD': gradient accumulation is not supported. Expected "
      "gradient_accumulation_steps=None. Received: gradient_accumulation_steps=3.");
  EXPECT_NO_THROW(SGD({.base = {.gradient_accumulation_steps = 0}}));  // Keras: 0 is off
}

TEST(OptimizerBase, ApplyGradientsMessages) {
  Tensor a({2, 3});
  Tensor b({4});
  EXPECT_EQ(message_of<ValueError>([&] {
              SGD().apply_gradients({&a, &b}, {Tensor({2, 3})});
            }),
            "SGD 'SGD': apply_gradients needs one gradient per variable. Expected "
            "len(gradients) == len(variables). Received: len(variables)=2, len(gradients)=1.");
  EXPECT_EQ(message_of<ValueError>([&] {
              SGD().apply_gradients({&a}, {Tensor({3, 2})});
            }),
            "SGD 'SGD': gradients[0] does not match its variable's shape. Expected "
            "gradients[0].shape == variables[0].shape == (2, 3). Received: "
            "gradients[0].shape=(3, 2).");
  EXPECT_EQ(message_of<ValueError>([&] { SGD().apply_gradients({nullptr}, {Tensor({3})}); }),
            "SGD 'SGD': variables[0] is null. Expected a pointer to the float32 tensor to update. "
            "Received: variables[0]=null.");
  Tensor view = a.transpose(0, 1);
  EXPECT_EQ(message_of<ValueError>([&] {
              SGD().apply_gradients({&view}, {Tensor({3, 2})});
            }),
            "SGD 'SGD': variables[0] is updated in place and must be contiguous. Expected a "
            "contiguous tensor. Received: variables[0].strides=(1, 3).");

  Adam adam;
  adam.apply_gradients({&a, &b}, {Tensor({2, 3}), Tensor({4})});
  EXPECT_EQ(message_of<ValueError>([&] {
              adam.apply_gradients({&a}, {Tensor({2, 3})});
            }),
            "Adam 'adam': the optimizer was built for another list of variables; create a new "
            "optimizer for a new set of variables. Expected 2 variables, in the order of the "
            "first call. Received: len(variables)=1.");
  EXPECT_EQ(message_of<ValueError>([&] {
              adam.apply_gradients({&b, &a}, {Tensor({4}), Tensor({2, 3})});
            }),
            "Adam 'adam': variables[0] changed shape since the optimizer was built. Expected "
            "shape (2, 3), as on the first call. Received: variables[0].shape=(4,).");
  EXPECT_EQ(adam.iterations(), 1);  // refused calls change nothing
  EXPECT_EQ(message_of<ValueError>([&] { adam.exclude_from_weight_decay({0}); }),
            "Adam 'adam': `exclude_from_weight_decay()` can only be configured before the "
            "optimizer is built. Expected a call before the first apply_gradients. Received: "
            "iterations=1.");
  AdamW adamw;
  adamw.exclude_from_weight_decay({2});
  EXPECT_EQ(message_of<ValueError>([&] {
              adamw.apply_gradients({&a, &b}, {Tensor({2, 3}), Tensor({4})});
            }),
            "AdamW 'adamw': a position excluded from weight decay names no variable. Expected "
            "positions in [0, 2). Received: position=2.");
}

TEST(OptimizerConfig, GetConfigLikeKeras) {
  const Adam adam;
  const Config config = adam.get_config();
  // float(self._learning_rate.numpy()): 0.001 as float32 holds it.
  EXPECT_EQ(config["learning_rate"].get<double>(), static_cast<double>(0.001f));
  EXPECT_EQ(config["learning_rate"].get<double>(), 0.0010000000474974513);
  EXPECT_EQ(config["name"], "adam");
  EXPECT_EQ(config["beta_1"], 0.9);
  EXPECT_EQ(config["beta_2"], 0.999);
  EXPECT_EQ(config["epsilon"], 1e-7);
  EXPECT_EQ(config["amsgrad"], false);
  for (const char* key :
       {"weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "ema_overwrite_frequency",
        "loss_scale_factor", "gradient_accumulation_steps"}) {
    EXPECT_TRUE(config[key].is_null()) << key;
  }
  EXPECT_EQ(config["use_ema"], false);
  EXPECT_EQ(config["ema_momentum"], 0.99);
  EXPECT_EQ(config.size(), 15u);

  const Config sgd =
      SGD({.learning_rate = 0.5, .momentum = 0.06, .nesterov = true, .weight_decay = 0.004})
          .get_config();
  EXPECT_EQ(sgd["name"], "SGD");
  EXPECT_EQ(sgd["momentum"], 0.06);
  EXPECT_EQ(sgd["nesterov"], true);
  EXPECT_EQ(sgd["weight_decay"], 0.004);
  EXPECT_EQ(sgd.size(), 13u);
  EXPECT_EQ(AdamW().get_config()["weight_decay"], 0.004);
}

TEST(OptimizerConfig, RoundTrips) {
  // keras test_config for each optimizer: from_config(get_config()) gives the same config.
  const SGD sgd({.learning_rate = 0.5,
                 .momentum = 0.06,
                 .nesterov = true,
                 .weight_decay = 0.004,
                 .base = {.clipnorm = 1.0, .loss_scale_factor = 8.0}});
  EXPECT_EQ(SGD::from_config(sgd.get_config())->get_config(), sgd.get_config());
  const Adam adam({.learning_rate = 0.5,
                   .beta_1 = 0.5,
                   .beta_2 = 0.67,
                   .epsilon = 1e-5,
                   .amsgrad = true,
                   .base = {.global_clipnorm = 2.0},
                   .name = "opt"});
  EXPECT_EQ(Adam::from_config(adam.get_config())->get_config(), adam.get_config());
  const AdamW adamw({.learning_rate = 0.5,
                     .weight_decay = 0.008,
                     .beta_1 = 0.5,
                     .beta_2 = 0.67,
                     .epsilon = 1e-5,
                     .amsgrad = true});
  const auto back = AdamW::from_config(adamw.get_config());
  EXPECT_EQ(back->get_config(), adamw.get_config());
  EXPECT_EQ(back->class_name(), "AdamW");

  // serialize / deserialize, and the names keras.optimizers.get takes (any case).
  const Config serialized = serialize_optimizer(adam);
  EXPECT_EQ(serialized["module"], "keras.optimizers");
  EXPECT_EQ(serialized["class_name"], "Adam");
  EXPECT_EQ(deserialize_optimizer(serialized)->get_config(), adam.get_config());
  EXPECT_EQ(deserialize_optimizer("sgd")->class_name(), "SGD");
  EXPECT_EQ(deserialize_optimizer("adamw")->class_name(), "AdamW");
  EXPECT_EQ(deserialize_optimizer("ADAM")->name(), "adam");
  EXPECT_EQ(deserialize_optimizer(Config{{"class_name", "adamw"}, {"config", nullptr}})->name(),
            "adamw");
  // AdamW's missing weight_decay takes the default; an explicit null is refused.
  EXPECT_EQ(AdamW::from_config(Config{{"name", "w"}})->weight_decay(), 0.004);
  EXPECT_THROW(AdamW::from_config(Config{{"weight_decay", nullptr}}), ValueError);
  // Keras pops `decay` and ignores it.
  EXPECT_EQ(SGD::from_config(Config{{"decay", 0.1}})->get_config(), SGD().get_config());
}

TEST(OptimizerConfig, Refusals) {
  EXPECT_EQ(message_of<NotSupportedError>([] { deserialize_optimizer("rmsprop"); }),
            "Optimizer: unsupported optimizer. Expected one of the supported optimizers: SGD, "
            "Adam, AdamW. Received: optimizer=rmsprop.");
  EXPECT_EQ(message_of<ValueError>([] { deserialize_optimizer("typo"); }),
            "Optimizer: could not interpret optimizer identifier. Expected an optimizer name or "
            "a serialized optimizer object. Received: identifier=\"typo\".");
  EXPECT_EQ(message_of<NotSupportedError>([] {
              Adam::from_config(Config{{"name", "adam"},
                                       {"learning_rate",
                                        {{"module", "keras.optimizers.schedules"},
                                         {"class_name", "ExponentialDecay"},
                                         {"config", Config::object()},
                                         {"registered_name", nullptr}}}});
            }),
            "Adam 'adam': learning-rate schedules are not supported. Expected a float "
            "learning_rate. Received: learning_rate={\"class_name\":\"ExponentialDecay\","
            "\"config\":{},\"module\":\"keras.optimizers.schedules\",\"registered_name\":null}.");
  EXPECT_EQ(message_of<ValueError>([] {
              SGD::from_config(Config{{"name", "s"}, {"rho", 0.9}});
            }),
            "SGD 's': unrecognized keyword arguments in the config. Expected only the keys of "
            "SGD.get_config(). Received: {'rho': 0.9}.");
  EXPECT_EQ(message_of<ValueError>([] {
              SGD::from_config(Config{{"name", "s"}, {"clipnorm", "big"}});
            }),
            "SGD 's': invalid config value for `clipnorm`. Expected a number or null. Received: "
            "clipnorm=\"big\".");
  EXPECT_THROW(Adam::from_config(Config{{"use_ema", true}}), NotSupportedError);
}

}  // namespace
}  // namespace kattn
