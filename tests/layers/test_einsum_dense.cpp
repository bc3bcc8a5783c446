#include <gtest/gtest.h>

#include "kattn/layers/einsum_dense.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::message_of;

// What Keras 3.16 writes for EinsumDense("abc,cd->abd", output_shape=(None, 64),
// bias_axes="d", name="proj").
Config keras_einsum_config() {
  return Config::parse(R"({"name": "proj", "trainable": true, "dtype": {"module": "keras",
    "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
    "output_shape": [null, 64], "equation": "abc,cd->abd", "activation": "linear",
    "bias_axes": "d", "kernel_initializer": {"module": "keras.initializers", "class_name":
    "GlorotUniform", "config": {"seed": null, "input_axes": null, "output_axes": null},
    "registered_name": null}, "bias_initializer": {"module": "keras.initializers",
    "class_name": "Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null,
    "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
    "bias_constraint": null, "quantization_config": null})");
}

TEST(EinsumDense, KerasConfigRoundTrips) {
  const Config keras = keras_einsum_config();
  EXPECT_EQ(EinsumDense::from_config(keras)->get_config(), keras);
  const EinsumDense layer(
      {.equation = "abc,cd->abd", .output_shape = {-1, 64}, .bias_axes = "d", .name = "proj"});
  EXPECT_EQ(layer.get_config(), keras);
  // An int output_shape is Keras's (n,).
  Config config = keras;
  config["equation"] = "ab,bc->ac";
  config["output_shape"] = 64;
  EXPECT_EQ(EinsumDense::from_config(config)->get_config()["output_shape"], Config::parse("[64]"));
}

// The shapes of the examples in Keras's EinsumDense docstring and of MultiHeadAttention's
// projections.
TEST(EinsumDense, WeightShapesFollowKeras) {
  struct Case {
    const char* equation;
    Shape output_shape;
    const char* bias_axes;
    Shape input;
    Shape kernel;
    Shape bias;
    Shape output;
  };
  for (const Case& c : {
           Case{"ab,bc->ac", {64}, "c", {-1, 32}, {32, 64}, {64}, {-1, 64}},
           Case{"abc,cd->abd", {-1, 64}, "d", {-1, 32, 128}, {128, 64}, {64}, {-1, -1, 64}},
           Case{"...x,xy->...y", {64}, "y", {-1, 32, 128}, {128, 64}, {64}, {-1, 32, 64}},
           Case{"abc,cde->abde", {-1, 2, 4}, "de", {-1, 5, 8}, {8, 2, 4}, {2, 4}, {-1, -1, 2, 4}},
           Case{"abcd,cde->abe", {-1, 8}, "e", {-1, 5, 2, 4}, {2, 4, 8}, {8}, {-1, -1, 8}},
           Case{"abc,cde->abde", {-1, 2, 4}, "d", {-1, 5, 8}, {8, 2, 4}, {2, 1}, {-1, -1, 2, 4}},
           Case{"ab...,bc->ac...", {6}, "c", {-1, 3, 7}, {3, 6}, {6, 1}, {-1, 6, 7}},
       }) {
    SCOPED_TRACE(c.equation);
    EinsumDense layer({.equation = c.equation,
                       .output_shape = c.output_shape,
                       .bias_axes = std::string(c.bias_axes)});
    EXPECT_EQ(layer.compute_output_shape(c.input), c.output);
    layer.build(c.input);
    ASSERT_EQ(layer.weights().size(), 2u);
    EXPECT_EQ(layer.weights()[0].name, "kernel");
    EXPECT_EQ(layer.weights()[0].value.shape(), c.kernel);
    EXPECT_EQ(layer.weights()[1].name, "bias");
    EXPECT_EQ(layer.weights()[1].value.shape(), c.bias);
  }
  EinsumDense no_bias({.equation = "ab,bc->ac", .output_shape = {3}});
  no_bias.build({2, 4});
  EXPECT_EQ(no_bias.weights().size(), 1u);
}

// einsum written out for "abc,cd->abd" (the matrix-product path) and "abc,bd->acd" (the loop).
TEST(EinsumDense, HandComputed) {
  const Tensor x({2, 3, 2}, {1, 2, 3, 4, 5, 6, -1, 0, 2, 1, 0, -2});
  const Tensor k({2, 2}, {1, -1, 0.5f, 2});
  EinsumDense dense({.equation = "abc,cd->abd", .output_shape = {-1, 2}, .bias_axes = "d"});
  dense.build(x.shape());
  dense.set_weights({k, Tensor({2}, {10, 20})});
  Tensor expected({2, 3, 2});
  for (int64_t a = 0; a < 2; ++a) {
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t d = 0; d < 2; ++d) {
        expected(a, b, d) = x(a, b, 0) * k(0, d) + x(a, b, 1) * k(1, d) + (d == 0 ? 10 : 20);
      }
    }
  }
  EXPECT_EQ(dense.call(x).to_vector(), expected.to_vector());

  const Tensor k2({3, 4}, {1, 2, 3, 4, 0, -1, 0, 1, 2, 2, -2, 0.5f});
  EinsumDense loop({.equation = "abc,bd->acd",
                    .output_shape = {2, 4},
                    .activation = ActivationFunction("relu"),
                    .bias_axes = "c"});
  loop.build(x.shape());
  loop.set_weights({k2, Tensor({2, 1}, {0.5f, -0.5f})});
  Tensor expected2({2, 2, 4});
  for (int64_t a = 0; a < 2; ++a) {
    for (int64_t c = 0; c < 2; ++c) {
      for (int64_t d = 0; d < 4; ++d) {
        float sum = 0;
        for (int64_t b = 0; b < 3; ++b) sum += x(a, b, c) * k2(b, d);
        expected2(a, c, d) = std::max(0.0f, sum + (c == 0 ? 0.5f : -0.5f));
      }
    }
  }
  expect_close(loop.call(x), expected2, 1e-6, 1e-6);

  // A left ellipsis takes any number of leading axes: here none beyond the batch.
  EinsumDense ellipsis({.equation = "...b,bc->...c", .output_shape = {4}});
  ellipsis.build({-1, 3});
  ellipsis.set_weights({k2});
  Tensor rows({1, 3}, {1, 2, 3});
  EXPECT_EQ(ellipsis.call(rows).to_vector(), (std::vector<float>{7, 6, -3, 7.5f}));
}

TEST(EinsumDense, Errors) {
  EXPECT_EQ(message_of<ValueError>([] { EinsumDense({.equation = "ab->b", .name = "e"}); }),
            "EinsumDense 'e': Invalid einsum equation 'ab->b'. Expected an equation in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z].... Received: equation=ab->b.");
  EXPECT_EQ(message_of<NotSupportedError>(
                [] { EinsumDense({.equation = "aa,ab->b", .output_shape = {2}, .name = "e"}); }),
            "EinsumDense 'e': unsupported einsum equation. Expected each letter at most once per "
            "operand. Received: equation=aa,ab->b.");
  EXPECT_EQ(message_of<ValueError>([] {
              EinsumDense({.equation = "abc,cd->abd", .output_shape = {5, 64}, .name = "e"})
                  .build({-1, 4, 8});
            }),
            "EinsumDense 'e': Input shape and output shape do not match at shared dimension 'b'. "
            "Expected the output_shape entry of 'b' to be None or 4 (the input's). Received: "
            "output_shape=(5, 64).");
  EXPECT_EQ(
      message_of<ValueError>([] {
        EinsumDense({.equation = "ab,bc->ac", .output_shape = {3}, .bias_axes = "x", .name = "e"})
            .build({-1, 4});
      }),
      "EinsumDense 'e': Bias dimension 'x' was requested, but is not part of the output "
      "spec 'ac'. Expected letters of the output spec. Received: bias_axes=x.");
  EXPECT_EQ(
      message_of<ValueError>([] {
        EinsumDense({.equation = "ab,bc->acd", .output_shape = {3, 2}, .name = "e"}).build({-1, 4});
      }),
      "EinsumDense 'e': Dimension 'd' was specified in the output 'acd' but has no "
      "corresponding dim in the input spec 'ab' or weight spec 'bc'. Expected every output "
      "letter in the input or the kernel. Received: equation=ab,bc->acd.");
  EXPECT_EQ(
      message_of<ValueError>([] {
        EinsumDense({.equation = "ab,bcx->ac", .output_shape = {3}, .name = "e"}).build({-1, 4});
      }),
      "EinsumDense 'e': Weight dimension 'x' did not have a match in either the input spec "
      "'ab' or the output spec 'ac'. Expected a fully specified weight. Received: "
      "equation=ab,bcx->ac.");
  EXPECT_EQ(
      message_of<ValueError>([] {
        EinsumDense({.equation = "ab,bc->ac", .output_shape = {3}, .name = "e"}).build({-1, -1});
      }),
      "EinsumDense 'e': the kernel dimension 'b' is unknown. Expected a known input or "
      "output_shape dimension. Received: input_shape=(None, None), output_shape=(3,).");
  EinsumDense layer({.equation = "ab,bc->ac", .output_shape = {3}, .name = "e"});
  layer.build({-1, 4});
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 5}));
            }),
            "EinsumDense 'e': input shape does not match the kernel. Expected dimension 'b' of "
            "length 4. Received: shape=(2, 5).");
  EXPECT_EQ(message_of<ValueError>([&] {
              layer.call(Tensor({2, 1, 4}));
            }),
            "EinsumDense 'e': Input 0 is incompatible with the layer. Expected ndim=2. Received: "
            "shape=(2, 1, 4).");
  Config config = keras_einsum_config();
  config["lora_rank"] = 2;
  EXPECT_EQ(message_of<NotSupportedError>([&] { EinsumDense::from_config(config); }),
            "EinsumDense 'proj': unsupported argument. Expected lora_rank=None. Received: "
            "lora_rank=2.");
}

}  // namespace
}  // namespace kattn
