#include "kattn/core/half.hpp"
#include "kattn/core/random.hpp"
#include "kernels/flash/sdpa_flash.hpp"

namespace kattn::kernels {

void sdpa_fully_masked_row(const SdpaParams<float>& p, int64_t b, int64_t n, int64_t i) noexcept {
  const bool uniform = p.fully_masked_rows == FullyMaskedRows::kUniform;
  const float prob = uniform ? 1.0f / static_cast<float>(p.key_len) : 0.0f;
  const int64_t kv = n / (p.num_heads / p.num_kv_heads);
  const int64_t flat_row = ((b * p.num_heads + n) * p.query_len + i) * p.key_len;
  const int64_t* vs = p.value_strides;
  const int64_t* os = p.output_strides;
  float* out = p.output + b * os[0] + i * os[1] + n * os[2];
  for (int64_t c = 0; c < p.value_dim; ++c) out[c * os[3]] = 0.0f;
  if (p.scores != nullptr) {
    for (int64_t j = 0; j < p.key_len; ++j) p.scores[flat_row + j] = prob;
  }
  if (!uniform) return;
  const float keep_prob = static_cast<float>(1.0 - p.dropout_rate);
  for (int64_t j = 0; j < p.key_len; ++j) {
    float weight = prob;
    if (p.dropout_rate > 0.0) {
      const uint64_t index = static_cast<uint64_t>(flat_row + j);
      weight = dropout_keeps(p.dropout_key, index, p.dropout_rate) ? prob / keep_prob : 0.0f;
    }
    const int64_t at = b * vs[0] + j * vs[1] + kv * vs[2];
    for (int64_t c = 0; c < p.value_dim; ++c) {
      const int64_t element = at + c * vs[3];
      const float value = p.value_half != nullptr
                              ? half_to_float(p.value_half[element], p.half_format)
                              : p.value[element];
      out[c * os[3]] += weight * value;
    }
  }
}

}  // namespace kattn::kernels
