// The companion layers' backward() against central finite differences of their forward(), for
// every input and weight, over the layers' options; then the cases differences cannot decide
// (masked steps, ties of a maximum, NaN, fully masked rows) against the value Keras's autodiff
// gives, and the checks backward() makes of its arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/activation.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/einsum_dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/masking.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/pooling.hpp"
#include "layer_backward_check.hpp"
#include "layer_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using testing::away_from_zero;
using testing::dot_sum;
using testing::expect_gradients_match_differences;
using testing::gradients_agree;
using testing::kAtol;
using testing::kRtol;
using testing::kStep;
using testing::LayerCall;
using testing::merge_call;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;
using testing::unary_call;

const std::vector<std::string> kActivations = {"linear", "relu",    "gelu", "sigmoid",
                                               "tanh",   "softmax", "silu"};

// ---- Dense and EinsumDense

TEST(CompanionLayerBackward, DenseEveryActivationWithAndWithoutBias) {
  for (const std::string& activation : kActivations) {
    for (const bool use_bias : {true, false}) {
      SCOPED_TRACE(activation + (use_bias ? " with bias" : " without bias"));
      const auto call = unary_call<Dense>([&] {
        auto layer = std::make_unique<Dense>(Dense::Args{
            .units = 3, .activation = ActivationFunction(activation), .use_bias = use_bias});
        layer->build({2, 3, 4});
        return layer;
      });
      expect_gradients_match_differences(call, {random_normal({2, 3, 4}, 1)});
    }
  }
}

TEST(CompanionLayerBackward, EinsumDenseEveryEquationForm) {
  struct Case {
    std::string equation;
    Shape output_shape;
    std::optional<std::string> bias_axes;
    Shape input_shape;
    std::string activation = "linear";
  };
  const std::vector<Case> cases = {
      // Dense-like: one matrix product.
      {"abc,cd->abd", {3, 4}, "d", {2, 3, 5}},
      {"ab,bc->ac", {4}, std::nullopt, {3, 5}, "tanh"},
      {"abc,cde->abde", {3, 2, 4}, "de", {2, 3, 5}},
      {"...b,bc->...c", {4}, "c", {2, 3, 5}, "gelu"},
      {"abcd,cde->abe", {3, 4}, "e", {2, 3, 5, 2}, "relu"},
      // A bias broadcast along a trailing output axis: bias (d, 1).
      {"abc,cde->abde", {3, 2, 4}, "d", {2, 3, 5}},
      // The plain loop: a transposed contraction, a letter in all three operands (a batch axis of
      // the kernel), an input axis the einsum sums, an ellipsis on the right.
      {"abc,bd->acd", {5, 4}, "d", {2, 3, 5}, "sigmoid"},
      {"abc,acd->abd", {3, 4}, "bd", {2, 3, 5}},
      {"abc,cd->ad", {4}, "d", {2, 3, 5}, "silu"},
      {"ab...,bc->ac...", {4, 3}, "c", {2, 5, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.equation + " bias_axes=" + c.bias_axes.value_or("None"));
    const auto call = unary_call<EinsumDense>([&] {
      auto layer = std::make_unique<EinsumDense>(
          EinsumDense::Args{.equation = c.equation,
                            .output_shape = c.output_shape,
                            .activation = ActivationFunction(c.activation),
                            .bias_axes = c.bias_axes});
      layer->build(c.input_shape);
      return layer;
    });
    expect_gradients_match_differences(call, {random_normal(c.input_shape, 2)});
  }
}

// ---- Conv1D

TEST(CompanionLayerBackward, Conv1DEveryPaddingStrideDilationAndGroup) {
  struct Case {
    std::string padding;
    int64_t strides = 1;
    int64_t dilation_rate = 1;
    int64_t groups = 1;
    bool use_bias = true;
    std::string activation = "linear";
  };
  std::vector<Case> cases;
  for (const std::string padding : {"valid", "same", "causal"}) {
    cases.push_back({padding});
    cases.push_back({padding, 2});
    cases.push_back({padding, 3, 1, 2, false, "tanh"});
    cases.push_back({padding, 1, 2});
    cases.push_back({padding, 1, 2, 2, true, "silu"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.padding + " strides=" + std::to_string(c.strides) + " dilation_rate=" +
                 std::to_string(c.dilation_rate) + " groups=" + std::to_string(c.groups) +
                 (c.use_bias ? "" : " no bias") + " " + c.activation);
    const auto call = unary_call<Conv1D>([&] {
      auto layer =
          std::make_unique<Conv1D>(Conv1D::Args{.filters = 4,
                                                .kernel_size = 3,
                                                .strides = c.strides,
                                                .padding = c.padding,
                                                .dilation_rate = c.dilation_rate,
                                                .groups = c.groups,
                                                .activation = ActivationFunction(c.activation),
                                                .use_bias = c.use_bias});
      layer->build({2, 8, 4});
      return layer;
    });
    expect_gradients_match_differences(call, {random_normal({2, 8, 4}, 3)});
  }
}

// ---- Embedding

TEST(CompanionLayerBackward, EmbeddingGathersRowGradientsWhateverMaskZero) {
  for (const bool mask_zero : {false, true}) {
    SCOPED_TRACE(mask_zero ? "mask_zero" : "no mask_zero");
    // Repeated ids and the padding id 0: each row gathers the gradients of all its uses.
    const Int32Tensor ids({2, 4}, {0, 3, 3, 1, 4, 0, 0, 3});
    const Embedding::Args args{.input_dim = 5, .output_dim = 3, .mask_zero = mask_zero};
    Tensor table = random_normal({5, 3}, 4);
    const auto run = [&](const Tensor& weights) {
      Embedding layer(args);
      layer.build();
      layer.set_weights({weights});
      return layer.forward(ids);
    };
    Embedding layer(args);
    layer.build();
    layer.set_weights({table});
    const LayerForward forward = layer.forward(ids);
    const Tensor d_output = random_normal(forward.output.shape(), 5);
    std::vector<Tensor> weight_gradients = layer.zero_gradients();
    layer.backward(forward, d_output, weight_gradients);
    const auto loss = [&] { return dot_sum(run(table).output, d_output); };
    EXPECT_TRUE(
        gradients_agree(weight_gradients[0], numeric_gradient(table, loss, kStep), kAtol, kRtol));
    // Row 2 is never looked up.
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(weight_gradients[0](2, j), 0.0f);
  }
}

// ---- LayerNormalization

TEST(CompanionLayerBackward, LayerNormalizationEveryAxisAndOption) {
  struct Case {
    std::string name;
    LayerNormalization::Args args;
  };
  const std::vector<Case> cases = {
      {"last_axis", {}},
      {"two_axes", {.axis = {1, 2}}},
      {"middle_axis_unsorted_pair", {.axis = {2, 0}}},
      {"middle_axis", {.axis = 1, .epsilon = 0.5}},
      {"no_center", {.center = false}},
      {"no_scale", {.scale = false}},
      {"neither", {.center = false, .scale = false}},
      {"rms_scaling", {.rms_scaling = true}},
      {"rms_scaling_two_axes", {.axis = {-2, -1}, .rms_scaling = true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto call = unary_call<LayerNormalization>([&] {
      auto layer = std::make_unique<LayerNormalization>(c.args);
      layer->build({2, 3, 4});
      return layer;
    });
    expect_gradients_match_differences(call, {random_normal({2, 3, 4}, 6)});
  }
}

// ---- Activation and Dropout

TEST(CompanionLayerBackward, ActivationEverySupportedActivation) {
  for (const std::string& activation : kActivations) {
    SCOPED_TRACE(activation);
    const auto call = unary_call<Activation>([&] {
      return std::make_unique<Activation>(
          Activation::Args{.activation = ActivationFunction(activation)});
    });
    expect_gradients_match_differences(call, {away_from_zero(random_normal({2, 3, 4}, 7))});
  }
}

TEST(CompanionLayerBackward, ReluPassesNothingAtZero) {
  // TensorFlow's ReluGrad: the gradient flows where the output is positive, so not at x = 0.
  const Activation relu({.activation = ActivationFunction("relu")});
  std::vector<Tensor> none;
  const LayerForward forward = relu.forward(Tensor({3}, {-1.0f, 0.0f, 2.0f}));
  EXPECT_EQ(relu.backward(forward, Tensor({3}, {5.0f, 5.0f, 5.0f}), none).to_vector(),
            (std::vector<float>{0.0f, 0.0f, 5.0f}));
}

TEST(CompanionLayerBackward, DropoutInTrainingUsesTheForwardMask) {
  struct Case {
    std::string name;
    Dropout::Args args;
    bool training = true;
  };
  const std::vector<Case> cases = {
      {"elementwise", {.rate = 0.4, .seed = 3}},
      {"noise_shape", {.rate = 0.5, .noise_shape = Shape{-1, 1, 4}, .seed = 4}},
      {"rate_one", {.rate = 1.0, .seed = 5}},
      {"rate_zero", {.rate = 0.0, .seed = 6}},
      {"inference", {.rate = 0.5, .seed = 7}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const LayerCall<Dropout> call{
        [&] { return std::make_unique<Dropout>(c.args); },
        [&](const Dropout& layer, const std::vector<Tensor>& in) {
          return layer.forward(in[0], c.training);
        },
        [](const Dropout& layer, const LayerForward& f, const Tensor& d, std::vector<Tensor>& wg) {
          return std::vector<Tensor>{layer.backward(f, d, wg)};
        }};
    expect_gradients_match_differences(call, {random_normal({2, 3, 4}, 8)});
  }
}

TEST(CompanionLayerBackward, DropoutGradientIsZeroExactlyWhereTheOutputWasDropped) {
  const Dropout dropout({.rate = 0.5, .seed = 11});
  const Tensor x = Tensor::full({4, 8}, 1.0f);
  const LayerForward forward = dropout.forward(x, /*training=*/true);
  std::vector<Tensor> none;
  const Tensor d = dropout.backward(forward, Tensor::full({4, 8}, 3.0f), none);
  int64_t dropped = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const float y = forward.output.data()[i];
    EXPECT_EQ(d.data()[i], y == 0.0f ? 0.0f : 6.0f) << i;
    dropped += y == 0.0f;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, x.size());
  // At inference the output is the input itself; its gradient is a copy of d_output.
  const Tensor d_output = Tensor::full({4, 8}, 3.0f);
  const LayerForward identity = dropout.forward(x);
  EXPECT_EQ(identity.output.data(), x.data());
  const Tensor passed = dropout.backward(identity, d_output, none);
  EXPECT_NE(passed.data(), d_output.data());
  EXPECT_EQ(passed.to_vector(), d_output.to_vector());
}

// ---- Masking

TEST(CompanionLayerBackward, MaskingMultipliesByTheMask) {
  for (const double mask_value : {0.0, 1.5}) {
    SCOPED_TRACE(mask_value);
    Tensor x = random_normal({2, 4, 3}, 9);
    // Steps (0, 1) and (1, 3) equal mask_value everywhere: masked.
    for (int64_t j = 0; j < 3; ++j) {
      x(0, 1, j) = static_cast<float>(mask_value);
      x(1, 3, j) = static_cast<float>(mask_value);
    }
    const Masking masking({.mask_value = mask_value});
    const LayerForward forward = masking.forward(x);
    const Tensor d_output = random_normal(x.shape(), 10);
    std::vector<Tensor> none;
    const Tensor d_x = masking.backward(forward, d_output, none);
    const auto loss = [&] { return dot_sum(masking.forward(x).output, d_output); };
    Tensor expected = numeric_gradient(x, loss, kStep);
    // Keras's mask is not_equal(inputs, mask_value), which has no gradient: a masked step gets
    // 0, where a difference would unmask it and see d_output.
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_NEAR(expected(0, 1, j), d_output(0, 1, j), kAtol);
      expected(0, 1, j) = 0.0f;
      expected(1, 3, j) = 0.0f;
    }
    EXPECT_TRUE(gradients_agree(d_x, expected, kAtol, kRtol));
    EXPECT_EQ(d_x(1, 3, 2), 0.0f);
  }
}

// ---- Add, Multiply, Concatenate

TEST(CompanionLayerBackward, AddAndMultiplyWithBroadcasting) {
  // Equal shapes; a length-1 axis; a lower-rank input (expand_dims after the batch axis); three
  // inputs.
  const std::vector<std::vector<Shape>> shape_sets = {
      {{2, 3, 4}, {2, 3, 4}},
      {{2, 3, 4}, {2, 1, 4}},
      {{2, 3, 4}, {2, 4}},
      {{2, 1, 4}, {2, 3, 1}, {2, 3, 4}},
  };
  for (const std::vector<Shape>& shapes : shape_sets) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(random_normal(shapes[i], 20 + i));
    SCOPED_TRACE(shape_to_string(shapes[1]));
    expect_gradients_match_differences(merge_call<Add>([] { return std::make_unique<Add>(); }),
                                       inputs);
    expect_gradients_match_differences(
        merge_call<Multiply>([] { return std::make_unique<Multiply>(); }), inputs);
  }
}

TEST(CompanionLayerBackward, MultiplyOfATensorWithItselfGivesOneEntryPerUse) {
  // x * x: the two entries are each x * d and add up to the derivative 2 x d.
  Tensor x = random_normal({2, 5}, 30);
  const Tensor d_output = random_normal({2, 5}, 31);
  const Multiply multiply;
  const LayerForward forward = multiply.forward({x, x});
  std::vector<Tensor> none;
  const std::vector<Tensor> grads = multiply.backward(forward, d_output, none);
  ASSERT_EQ(grads.size(), 2u);
  Tensor sum = grads[0].clone();
  for (int64_t i = 0; i < sum.size(); ++i) sum.data()[i] += grads[1].data()[i];
  const auto loss = [&] { return dot_sum(multiply.forward({x, x}).output, d_output); };
  EXPECT_TRUE(gradients_agree(sum, numeric_gradient(x, loss, kStep), kAtol, kRtol));
}

TEST(CompanionLayerBackward, ConcatenateSplitsAlongItsAxis) {
  for (const int64_t axis : {-1, 1, 0}) {
    SCOPED_TRACE(axis);
    std::vector<Tensor> inputs;
    for (int64_t i = 0; i < 3; ++i) {
      Shape shape{2, 3, 4};
      shape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)] = i + 1;
      inputs.push_back(random_normal(shape, 40 + static_cast<uint64_t>(i)));
    }
    expect_gradients_match_differences(
        merge_call<Concatenate>(
            [&] { return std::make_unique<Concatenate>(Concatenate::Args{.axis = axis}); }),
        inputs);
  }
}

// ---- GlobalAveragePooling1D and GlobalMaxPooling1D

TEST(CompanionLayerBackward, GlobalAveragePoolingWithAndWithoutAMask) {
  Mask mask = random_mask({2, 5}, 50);
  mask(0, 0) = mask(1, 0) = true;  // no fully masked row: its output is NaN
  for (const std::string format : {"channels_last", "channels_first"}) {
    for (const bool keepdims : {false, true}) {
      for (const bool masked : {false, true}) {
        SCOPED_TRACE(format + (keepdims ? " keepdims" : "") + (masked ? " masked" : ""));
        const Shape shape = format == "channels_last" ? Shape{2, 5, 3} : Shape{2, 3, 5};
        const LayerCall<GlobalAveragePooling1D> call{
            [&] {
              return std::make_unique<GlobalAveragePooling1D>(
                  GlobalAveragePooling1D::Args{.data_format = format, .keepdims = keepdims});
            },
            [&](const GlobalAveragePooling1D& layer, const std::vector<Tensor>& in) {
              return layer.forward(in[0], masked ? std::optional<Mask>(mask) : std::nullopt);
            },
            [](const GlobalAveragePooling1D& layer, const LayerForward& f, const Tensor& d,
               std::vector<Tensor>& wg) { return std::vector<Tensor>{layer.backward(f, d, wg)}; }};
        expect_gradients_match_differences(call, {random_normal(shape, 51)});
      }
    }
  }
}

TEST(CompanionLayerBackward, GlobalAveragePoolingPassesNothingToMaskedSteps) {
  // Row 0 keeps steps 0 and 2; row 1 is fully masked (its output is 0 / 0), and Keras's
  // where(mask, inputs, 0) passes no gradient to masked steps, so row 1 gets 0, not NaN.
  const GlobalAveragePooling1D pooling;
  const Mask mask({2, 3}, {true, false, true, false, false, false});
  const LayerForward forward = pooling.forward(random_normal({2, 3, 2}, 52), mask);
  EXPECT_TRUE(std::isnan(forward.output(1, 0)));
  std::vector<Tensor> none;
  const Tensor d = pooling.backward(forward, Tensor({2, 2}, {2.0f, 4.0f, 1.0f, 1.0f}), none);
  EXPECT_EQ(d.to_vector(), (std::vector<float>{1.0f, 2.0f, 0.0f, 0.0f, 1.0f, 2.0f,  //
                                               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}));
}

TEST(CompanionLayerBackward, GlobalMaxPoolingEveryFormat) {
  for (const std::string format : {"channels_last", "channels_first"}) {
    for (const bool keepdims : {false, true}) {
      SCOPED_TRACE(format + (keepdims ? " keepdims" : ""));
      const Shape shape = format == "channels_last" ? Shape{2, 5, 3} : Shape{2, 3, 5};
      const auto call = unary_call<GlobalMaxPooling1D>([&] {
        return std::make_unique<GlobalMaxPooling1D>(
            GlobalMaxPooling1D::Args{.data_format = format, .keepdims = keepdims});
      });
      // Random normal values are at least a difference step apart (no maximum changes under a
      // step).
      expect_gradients_match_differences(call, {random_normal(shape, 53)});
    }
  }
}

TEST(CompanionLayerBackward, GlobalMaxPoolingSplitsTiesAndPropagatesNaN) {
  const GlobalMaxPooling1D pooling;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // (1, 4, 3): channel 0 has one maximum, channel 1 three tied ones, channel 2 a NaN.
  const Tensor x({1, 4, 3}, {1.0f, 2.0f, 0.0f,  //
                             5.0f, 2.0f, nan,   //
                             3.0f, 2.0f, 1.0f,  //
                             4.0f, -1.0f, 9.0f});
  const LayerForward forward = pooling.forward(x);
  std::vector<Tensor> none;
  const Tensor d = pooling.backward(forward, Tensor({1, 3}, {6.0f, 6.0f, 6.0f}), none);
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_EQ(d(0, t, 0), t == 1 ? 6.0f : 0.0f) << t;
    EXPECT_EQ(d(0, t, 1), t < 3 ? 2.0f : 0.0f) << t;
    // TensorFlow's _MaxGrad: d * (x == max) / count(x == max) with a NaN maximum is 0 / 0.
    EXPECT_TRUE(std::isnan(d(0, t, 2))) << t;
  }
}

// ---- what backward() checks

TEST(CompanionLayerBackward, RefusesAForwardOfAnotherLayerAWrongGradientOrWrongBuffers) {
  Dense dense({.units = 2, .name = "head"});
  Dense other({.units = 2, .name = "other"});
  const Tensor x = random_normal({3, 4}, 60);
  const LayerForward forward = dense.forward(x);
  const LayerForward foreign = other.forward(x);
  std::vector<Tensor> buffers = dense.zero_gradients();
  const Tensor d = Tensor::full({3, 2}, 1.0f);
  EXPECT_EQ(message_of<ValueError>([&] { dense.backward(foreign, d, buffers); }),
            "Dense 'head': `forward` was not made by this layer's forward(). Expected the "
            "LayerForward this layer's forward() returned. Received: forward from another layer.");
  EXPECT_EQ(message_of<ValueError>([&] { dense.backward(LayerForward{}, d, buffers); }),
            "Dense 'head': `forward` was not made by this layer's forward(). Expected the "
            "LayerForward this layer's forward() returned. Received: forward from no forward() "
            "call.");
  const Activation activation({.activation = ActivationFunction("tanh")});
  EXPECT_EQ(message_of<ValueError>([&] { dense.backward(activation.forward(x), d, buffers); }),
            "Dense 'head': `forward` was not made by this layer's forward(). Expected the "
            "LayerForward this layer's forward() returned. Received: forward from another layer.");
  EXPECT_EQ(message_of<ValueError>([&] {
              dense.backward(forward, Tensor({3, 3}), buffers);
            }),
            "Dense 'head': `d_output` must have the output's shape. Expected shape (3, 2). "
            "Received: d_output.shape=(3, 3).");
  std::vector<Tensor> too_few = {buffers[0]};
  EXPECT_NE(message_of<ValueError>([&] { dense.backward(forward, d, too_few); }), "no exception");
  std::vector<Tensor> none;
  EXPECT_NE(message_of<ValueError>([&] {
              Add().backward(Add().forward({x, x}), Tensor::full({3, 4}, 1.0f), none);
            }),
            "no exception");
}

}  // namespace
}  // namespace kattn
