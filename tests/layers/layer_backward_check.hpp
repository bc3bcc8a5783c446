// The companion layers' gradient check: backward() against central finite differences of
// their forward(), for every input and weight (float32 steps, as testing::kFloatStep).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "projected_test_util.hpp"

namespace kattn::testing {

inline constexpr double kStep = kFloatStep;
inline constexpr double kAtol = kFloatAtol;
inline constexpr double kRtol = kFloatRtol;

// One layer call to check: `make` gives a fresh built layer (a seeded layer redraws the same
// dropout key on its first call), `forward` runs its training call on the inputs and `backward`
// returns one gradient per input.
template <typename L>
struct LayerCall {
  std::function<std::unique_ptr<L>()> make;
  std::function<LayerForward(const L&, const std::vector<Tensor>&)> forward;
  std::function<std::vector<Tensor>(const L&, const LayerForward&, const Tensor&,
                                    std::vector<Tensor>&)>
      backward;
  // Changes the random weights the check sets where some values are out of range (a variance
  // must be positive); nothing when empty.
  std::function<void(std::vector<Tensor>&)> adjust_weights = nullptr;
};

// A layer called on one tensor: forward(inputs), backward(...) -> d_inputs.
template <typename L>
LayerCall<L> unary_call(std::function<std::unique_ptr<L>()> make) {
  return {std::move(make),
          [](const L& layer, const std::vector<Tensor>& in) { return layer.forward(in[0]); },
          [](const L& layer, const LayerForward& f, const Tensor& d, std::vector<Tensor>& wg) {
            return std::vector<Tensor>{layer.backward(f, d, wg)};
          }};
}

// backward() against differences of sum(forward(inputs).output * d_output) for every input and
// every trainable weight (the weights set to random values, biases included, so no term is
// trivially 0); then a second backward() into the same buffers, which must add the same weight
// gradients again and give the same input gradients afresh.
template <typename L>
void expect_gradients_match_differences(const LayerCall<L>& call, std::vector<Tensor> inputs) {
  std::vector<Tensor> weights = call.make()->get_weights();
  for (size_t i = 0; i < weights.size(); ++i) {
    weights[i] = random_normal(weights[i].shape(), 100 + i);
  }
  if (call.adjust_weights) call.adjust_weights(weights);
  const auto fresh = [&] {
    auto layer = call.make();
    if (!weights.empty()) layer->set_weights(weights);
    return layer;
  };
  auto layer = fresh();
  const LayerForward forward = call.forward(*layer, inputs);
  const Tensor d_output = random_normal(forward.output.shape(), 99);
  std::vector<Tensor> weight_gradients = layer->zero_gradients();
  const std::vector<Tensor> grads = call.backward(*layer, forward, d_output, weight_gradients);

  const auto loss = [&] { return dot_sum(call.forward(*fresh(), inputs).output, d_output); };
  ASSERT_EQ(grads.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE(gradients_agree(grads[i], numeric_gradient(inputs[i], loss, kStep), kAtol, kRtol))
        << "input " << i;
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    // Non-trainable weights (moving statistics) get no gradient, as in Keras.
    if (!layer->weights()[i].trainable) continue;
    EXPECT_TRUE(gradients_agree(weight_gradients[i], numeric_gradient(weights[i], loss, kStep),
                                kAtol, kRtol))
        << layer->weights()[i].name;
  }

  std::vector<Tensor> twice = layer->zero_gradients();
  call.backward(*layer, forward, d_output, twice);
  const std::vector<Tensor> again = call.backward(*layer, forward, d_output, twice);
  for (size_t i = 0; i < grads.size(); ++i) {
    EXPECT_EQ(again[i].to_vector(), grads[i].to_vector()) << "input " << i << " recomputed";
  }
  for (size_t i = 0; i < twice.size(); ++i) {
    Tensor doubled = weight_gradients[i].clone();
    for (int64_t j = 0; j < doubled.size(); ++j) doubled.data()[j] *= 2.0f;
    // Equal up to the order of the float32 additions.
    EXPECT_TRUE(gradients_agree(twice[i], doubled, 1e-5, 1e-5))
        << layer->weights()[i].name << " accumulated";
  }
}

// `x` with every value at least 0.05 from 0, so that no difference step straddles relu's kink.
inline Tensor away_from_zero(Tensor x) {
  for (int64_t i = 0; i < x.size(); ++i) {
    float& v = x.data()[i];
    if (std::abs(v) < 0.05f) v = v < 0.0f ? v - 0.05f : v + 0.05f;
  }
  return x;
}

template <typename L>
LayerCall<L> merge_call(std::function<std::unique_ptr<L>()> make) {
  return {std::move(make),
          [](const L& layer, const std::vector<Tensor>& in) { return layer.forward(in); },
          [](const L& layer, const LayerForward& f, const Tensor& d, std::vector<Tensor>& wg) {
            return layer.backward(f, d, wg);
          }};
}

}  // namespace kattn::testing
