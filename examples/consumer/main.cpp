// Luong attention from an installed kattn: prints the attention distribution of the Keras
// documentation's example (0.731, 0.269, 9.02e-05).
#include <cstdio>
#include <kattn/layers/attention.hpp>

int main() {
  const kattn::Tensor query({1, 1, 4}, {1, 1, 1, 3});
  const kattn::Tensor value({1, 3, 4}, {1, 1, 2, 4, 4, 1, 1, 3, 1, 1, 2, 1});
  const kattn::Attention attention;
  const kattn::AttentionOutput result =
      attention.call(query, value, {.return_attention_scores = true});
  const float* p = result.attention_scores->data();
  std::printf("%.3g %.3g %.3g\n", static_cast<double>(p[0]), static_cast<double>(p[1]),
              static_cast<double>(p[2]));
  return 0;
}
