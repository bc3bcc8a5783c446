// The attention layers' backward() against central finite differences of their call(), for
// every input and weight, over the layers' options: masks of every kind, causal, sliding
// window, the gate, attention_axes, fully masked rows on both of Keras's code paths, and
// dropout in training (a fresh layer with the same seed redraws the same dropout key, so the
// differences see the same dropped elements as the backward).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;

constexpr double kStep = testing::kFloatStep;
constexpr double kAtol = testing::kFloatAtol;
constexpr double kRtol = testing::kFloatRtol;

// One layer call to check: `make` gives a fresh built layer (same seed every time), `forward`
// runs it on the inputs (query, value[, key]).
template <typename LayerType>
struct LayerCall {
  std::function<std::unique_ptr<LayerType>()> make;
  std::function<AttentionForward(const LayerType&, const std::vector<Tensor>&)> forward;
};

template <typename LayerType>
void expect_gradients_match_differences(const LayerCall<LayerType>& call,
                                        std::vector<Tensor> inputs) {
  std::vector<Tensor> weights = call.make()->get_weights();
  // Random weights, biases included, so no gradient is trivially zero.
  for (size_t i = 0; i < weights.size(); ++i) {
    weights[i] = random_normal(weights[i].shape(), 100 + i);
  }
  const AttentionForward probe = [&] {
    auto layer = call.make();
    layer->set_weights(weights);
    return call.forward(*layer, inputs);
  }();
  const Tensor d_output = random_normal(probe.result.output.shape(), 99);

  auto layer = call.make();
  layer->set_weights(weights);
  const AttentionForward forward = call.forward(*layer, inputs);
  std::vector<Tensor> weight_gradients = layer->zero_gradients();
  const AttentionInputGradients grads = layer->backward(forward, d_output, weight_gradients);

  const auto loss = [&] {
    auto fresh = call.make();
    fresh->set_weights(weights);
    return dot_sum(call.forward(*fresh, inputs).result.output, d_output);
  };
  EXPECT_TRUE(gradients_agree(grads.query, numeric_gradient(inputs[0], loss, kStep), kAtol, kRtol))
      << "query";
  EXPECT_TRUE(gradients_agree(grads.value, numeric_gradient(inputs[1], loss, kStep), kAtol, kRtol))
      << "value";
  ASSERT_EQ(grads.key.has_value(), inputs.size() == 3);
  if (grads.key) {
    EXPECT_TRUE(gradients_agree(*grads.key, numeric_gradient(inputs[2], loss, kStep), kAtol, kRtol))
        << "key";
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_TRUE(gradients_agree(weight_gradients[i], numeric_gradient(weights[i], loss, kStep),
                                kAtol, kRtol))
        << layer->weights()[i].name;
  }
}

// ---- Attention and AdditiveAttention

struct DenseCase {
  std::string name;
  std::function<std::unique_ptr<DenseAttention>()> make;
  bool with_key = false;
  DenseAttentionCallArgs args;
};

std::vector<DenseCase> dense_cases() {
  const Mask query_mask = random_mask({2, 3}, 1);
  Mask value_mask = random_mask({2, 4}, 2);
  for (int64_t b = 0; b < 2; ++b) value_mask(b, 0) = true;  // no fully masked row
  std::vector<DenseCase> out;
  const auto attention = [](Attention::Args args) {
    return [args] { return std::make_unique<Attention>(args); };
  };
  const auto additive = [](AdditiveAttention::Args args) {
    return [args] { return std::make_unique<AdditiveAttention>(args); };
  };
  out.push_back({"dot", attention({}), false, {}});
  out.push_back({"dot_scale_key_masks",
                 attention({.use_scale = true}),
                 true,
                 {.query_mask = query_mask, .value_mask = value_mask}});
  out.push_back(
      {"dot_scale_causal", attention({.use_scale = true}), false, {.use_causal_mask = true}});
  out.push_back({"concat", attention({.score_mode = "concat"}), true, {}});
  out.push_back({"concat_scale_masks_causal",
                 attention({.use_scale = true, .score_mode = "concat"}),
                 false,
                 {.query_mask = query_mask, .value_mask = value_mask, .use_causal_mask = true}});
  out.push_back({"additive", additive({.use_scale = false}), true, {}});
  out.push_back({"additive_scale_masks",
                 additive({}),
                 true,
                 {.query_mask = query_mask, .value_mask = value_mask}});
  out.push_back({"dot_dropout_training",
                 attention({.use_scale = true, .dropout = 0.4, .seed = 5}),
                 true,
                 {.value_mask = value_mask, .training = true}});
  out.push_back({"additive_dropout_training",
                 additive({.dropout = 0.3, .seed = 6}),
                 false,
                 {.use_causal_mask = true, .training = true}});
  return out;
}

TEST(LayerBackward, DenseAttentionAgreesWithFiniteDifferences) {
  for (const DenseCase& c : dense_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs = {random_normal({2, 3, 5}, 10), random_normal({2, 4, 5}, 11)};
    if (c.with_key) inputs.push_back(random_normal({2, 4, 5}, 12));
    std::vector<Shape> shapes;
    for (const Tensor& input : inputs) shapes.push_back(input.shape());
    const LayerCall<DenseAttention> call{
        [&] {
          auto layer = c.make();
          layer->build(shapes);
          return layer;
        },
        [&](const DenseAttention& layer, const std::vector<Tensor>& in) {
          return layer.forward(in, c.args);
        }};
    expect_gradients_match_differences(call, inputs);
  }
}

// ---- MultiHeadAttention and GroupedQueryAttention

template <typename LayerType>
struct ProjectedCase {
  std::string name;
  typename LayerType::Args layer_args;
  Shape query_shape, value_shape;
  bool with_key = false;
  ProjectedAttentionCallArgs args;
};

template <typename LayerType>
void check_projected(const ProjectedCase<LayerType>& c) {
  SCOPED_TRACE(c.name);
  std::vector<Tensor> inputs = {random_normal(c.query_shape, 20), random_normal(c.value_shape, 21)};
  if (c.with_key) inputs.push_back(random_normal(c.value_shape, 22));
  const LayerCall<LayerType> call{
      [&] {
        auto layer = std::make_unique<LayerType>(c.layer_args);
        layer->build(c.query_shape, c.value_shape,
                     c.with_key ? std::optional<Shape>(c.value_shape) : std::nullopt);
        return layer;
      },
      [&](const LayerType& layer, const std::vector<Tensor>& in) {
        ProjectedAttentionCallArgs args = c.args;
        if (in.size() == 3) args.key = in[2];
        return layer.forward(in[0], in[1], args);
      }};
  expect_gradients_match_differences(call, inputs);
}

TEST(LayerBackward, MultiHeadAttentionAgreesWithFiniteDifferences) {
  using Case = ProjectedCase<MultiHeadAttention>;
  const MultiHeadAttention::Args base{.num_heads = 2, .key_dim = 2, .name = "mha"};
  const auto with = [&](auto edit) {
    MultiHeadAttention::Args args = base;
    edit(args);
    return args;
  };
  Mask query_mask = random_mask({2, 3}, 3);
  query_mask(0, 1) = false;  // a fully masked row on either path
  Mask value_mask = random_mask({2, 4}, 4);
  value_mask(0, 0) = value_mask(1, 0) = true;
  const std::vector<Case> cases = {
      {"cross_attention_with_key", base, {2, 3, 4}, {2, 4, 3}, true, {}},
      {"masks_dot_product_path",
       base,
       {2, 3, 4},
       {2, 4, 3},
       false,
       {.query_mask = query_mask, .value_mask = value_mask}},
      {"masks_einsum_path",
       base,
       {2, 3, 4},
       {2, 4, 3},
       false,
       {.query_mask = query_mask, .value_mask = value_mask, .return_attention_scores = true}},
      {"attention_mask_causal",
       base,
       {2, 4, 4},
       {2, 4, 4},
       false,
       {.attention_mask = random_mask({2, 4, 4}, 5), .use_causal_mask = true}},
      {"gate_no_bias_output_shape",
       with([](auto& a) {
         a.use_gate = true;
         a.use_bias = false;
         a.output_shape = Shape{3, 2};
         a.value_dim = 3;
       }),
       {2, 3, 4},
       {2, 4, 3},
       true,
       {}},
      {"sliding_window_causal",
       with([](auto& a) { a.sliding_window = 2; }),
       {2, 5, 4},
       {2, 5, 4},
       false,
       {.use_causal_mask = true}},
      {"attention_axes_1_2",
       with([](auto& a) {
         a.attention_axes = std::vector<int64_t>{1, 2};
       }),
       {2, 2, 3, 4},
       {2, 2, 2, 3},
       false,
       {}},
      {"attention_axes_2_masks",
       with([](auto& a) { a.attention_axes = std::vector<int64_t>{2}; }),
       {2, 2, 3, 4},
       {2, 2, 4, 3},
       false,
       {.query_mask = random_mask({2, 2, 3}, 8)}},
      {"dropout_training",
       with([](auto& a) {
         a.dropout = 0.4;
         a.seed = 7;
       }),
       {2, 3, 4},
       {2, 4, 3},
       true,
       {.value_mask = value_mask, .training = true}},
  };
  for (const Case& c : cases) check_projected(c);
}

TEST(LayerBackward, GroupedQueryAttentionAgreesWithFiniteDifferences) {
  using Case = ProjectedCase<GroupedQueryAttention>;
  const auto gqa = [](int64_t query_heads, int64_t kv_heads) {
    return GroupedQueryAttention::Args{.head_dim = 2,
                                       .num_query_heads = query_heads,
                                       .num_key_value_heads = kv_heads,
                                       .name = "gqa"};
  };
  auto gated = gqa(4, 2);
  gated.use_gate = true;
  auto windowed = gqa(4, 1);
  windowed.sliding_window = 2;
  auto dropped = gqa(2, 1);
  dropped.dropout = 0.3;
  dropped.seed = 9;
  Mask query_mask = random_mask({2, 3}, 6);
  query_mask(1, 2) = false;
  const std::vector<Case> cases = {
      {"grouped_4_2", gqa(4, 2), {2, 3, 4}, {2, 4, 4}, true, {}},
      {"multi_query_causal", gqa(4, 1), {2, 4, 4}, {2, 4, 4}, false, {.use_causal_mask = true}},
      {"multi_head_masks",
       gqa(2, 2),
       {2, 3, 4},
       {2, 4, 4},
       false,
       {.query_mask = query_mask, .key_mask = random_mask({2, 4}, 7)}},
      {"gate", gated, {2, 3, 4}, {2, 4, 4}, true, {}},
      {"sliding_window", windowed, {2, 5, 4}, {2, 5, 4}, false, {}},
      {"dropout_training",
       dropped,
       {2, 3, 4},
       {2, 4, 4},
       false,
       {.return_attention_scores = true, .training = true}},
  };
  for (const Case& c : cases) check_projected(c);
}

TEST(LayerBackward, RefusesAForwardFromAnotherLayerAndWrongBuffers) {
  MultiHeadAttention a({.num_heads = 1, .key_dim = 2, .name = "a"});
  MultiHeadAttention b({.num_heads = 1, .key_dim = 2, .name = "b"});
  const Tensor x = random_normal({1, 2, 3}, 1);
  const AttentionForward forward = a.forward(x, x);
  b.build(x.shape(), x.shape());
  std::vector<Tensor> grads = b.zero_gradients();
  std::string message =
      testing::value_error_message([&] { b.backward(forward, forward.result.output, grads); });
  EXPECT_NE(message.find("MultiHeadAttention 'b': `forward` was not made by this layer's"),
            std::string::npos)
      << message;
  std::vector<Tensor> too_few(1);
  message =
      testing::value_error_message([&] { a.backward(forward, forward.result.output, too_few); });
  EXPECT_NE(message.find("wrong number of weight gradient buffers"), std::string::npos) << message;
  std::vector<Tensor> ok = a.zero_gradients();
  message = testing::value_error_message([&] { a.backward(forward, Tensor({1, 2, 4}), ok); });
  EXPECT_NE(message.find("d_output.shape=(1, 2, 4)"), std::string::npos) << message;

  Attention dense;
  const AttentionForward dense_forward = dense.forward({x, x});
  std::vector<Tensor> none;
  message = testing::value_error_message(
      [&] { dense.backward(forward, dense_forward.result.output, none); });
  EXPECT_NE(message.find("`forward` was not made by this layer's forward()"), std::string::npos)
      << message;
}

TEST(LayerBackward, WeightGradientsAccumulate) {
  MultiHeadAttention mha({.num_heads = 2, .key_dim = 3, .name = "mha"});
  const Tensor x = random_normal({2, 3, 4}, 1);
  const AttentionForward forward = mha.forward(x, x);
  const Tensor d_output = random_normal(forward.result.output.shape(), 2);
  std::vector<Tensor> once = mha.zero_gradients(), twice = mha.zero_gradients();
  mha.backward(forward, d_output, once);
  mha.backward(forward, d_output, twice);
  mha.backward(forward, d_output, twice);
  for (size_t i = 0; i < once.size(); ++i) {
    for (int64_t e = 0; e < once[i].size(); ++e) {
      const float expected = 2 * once[i].data()[e];
      EXPECT_NEAR(twice[i].data()[e], expected, 1e-6 * (1 + std::abs(expected)));
    }
  }
}

}  // namespace
}  // namespace kattn
