// What a row of attention whose positions are all masked evaluates to: shared by the public
// attention op (kattn/ops/sdpa.hpp) and the kernels that run it.
#pragma once

namespace kattn {

// What a row whose positions are all masked evaluates to. Keras's attention layers have two
// code paths that differ exactly there; both are kept.
enum class FullyMaskedRows {
  // keras.ops.dot_product_attention: masked logits are replaced by -0.7 * 3.38953e38 before
  // the softmax, so a fully masked row is the uniform average of all values.
  kUniform,
  // The einsum + keras.layers.Softmax path: masked logits get -1e9 added, and the probabilities
  // of masked positions are set to 0 after the softmax, so a fully masked row's probabilities
  // and its context vector are zero.
  kZero,
};

}  // namespace kattn
