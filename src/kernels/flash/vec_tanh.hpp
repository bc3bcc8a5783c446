// tanh over a vector type V of eight floats (kernels/<isa>/vec8.hpp), for the tanh scorers of
// the fused kernel (AdditiveAttention, Attention "concat"). A template, so each instruction
// set's copy is its own symbol.
#pragma once

namespace kattn::kernels {

// tanh(x) within a few ulp: the odd 13/6 rational minimax approximation of Eigen and XLA (what
// TensorFlow and JAX evaluate on a CPU), on x clamped to +-7.90531, where it rounds to +-1.
// NaN stays NaN.
template <typename V>
V vtanh(V x) {
  const V bound = V::splat(7.90531110763549805f);
  const V c = vmin(bound, vmax(V::splat(-7.90531110763549805f), x));  // NaN passes both
  const V c2 = c * c;
  V p = V::splat(-2.76076847742355e-16f);
  p = fma(p, c2, V::splat(2.00018790482477e-13f));
  p = fma(p, c2, V::splat(-8.60467152213735e-11f));
  p = fma(p, c2, V::splat(5.12229709037114e-08f));
  p = fma(p, c2, V::splat(1.48572235717979e-05f));
  p = fma(p, c2, V::splat(6.37261928875436e-04f));
  p = fma(p, c2, V::splat(4.89352455891786e-03f));
  V q = V::splat(1.19825839466702e-06f);
  q = fma(q, c2, V::splat(1.18534705686654e-04f));
  q = fma(q, c2, V::splat(2.26843463243900e-03f));
  q = fma(q, c2, V::splat(4.89352518554385e-03f));
  return (p * c) / q;
}

}  // namespace kattn::kernels
