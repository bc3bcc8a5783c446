// exp over a vector type V (kernels/<isa>/vec*.hpp), for the softmax of the fused kernels. A
// template, so each instruction set's copy is its own symbol.
#pragma once

namespace kattn::kernels {

// exp(x) within 2 ulp for -87.3 <= x <= 88.37 (Cephes's expf polynomial); exactly 0 below, so
// masked logits (-inf) contribute nothing; NaN stays NaN. For arguments known to be at most
// 88.37, as the softmax's logit - max <= 0 always is: no clamp against overflow.
template <typename V>
V vexp_nonpositive(V x) {
  const V lowest = V::splat(-87.33654f);
  const V c = vmax(lowest, x);  // NaN passes
  const V n = round(c * V::splat(1.44269504088896341f));
  V r = fma(n, V::splat(-0.693359375f), c);
  r = fma(n, V::splat(2.12194440e-4f), r);
  V p = V::splat(1.9875691500e-4f);
  p = fma(p, r, V::splat(1.3981999507e-3f));
  p = fma(p, r, V::splat(8.3334519073e-3f));
  p = fma(p, r, V::splat(4.1665795894e-2f));
  p = fma(p, r, V::splat(1.6666665459e-1f));
  p = fma(p, r, V::splat(5.0000001201e-1f));
  p = fma(p * r, r, r + V::splat(1.0f));
  return zero_where_less(p * pow2(n), x, lowest);
}

// exp(x) for any x: above 88.37 it gives exp(88.37) (finite, as no softmax argument reaches).
template <typename V>
V vexp(V x) {
  return vexp_nonpositive(vmin(V::splat(88.37626f), x));  // NaN passes
}

}  // namespace kattn::kernels
