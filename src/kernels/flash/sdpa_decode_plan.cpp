// The ISA-independent parts of the decode kernel: its work split and the combine step.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/sdpa_flash.hpp"

namespace kattn::kernels {

bool sdpa_decode_applies(const SdpaParams<float>& params) {
  return params.query_len <= SdpaDecodeTiles::kMaxQueryLen && params.scores == nullptr;
}

int64_t sdpa_decode_rows(const SdpaParams<float>& p) { return p.batch * p.num_heads * p.query_len; }

int64_t sdpa_decode_chunks(const SdpaParams<float>& p) {
  return (p.key_len + SdpaDecodeTiles::kKeyChunk - 1) / SdpaDecodeTiles::kKeyChunk;
}

int64_t sdpa_decode_kv_groups(const SdpaParams<float>& p) {
  constexpr int64_t kMinItems = 16;
  const int64_t items = p.batch * p.query_len * sdpa_decode_chunks(p);
  if (items == 0) return 1;  // nothing to split
  return std::min(p.num_kv_heads, std::max<int64_t>(1, (kMinItems + items - 1) / items));
}

int64_t sdpa_decode_items(const SdpaParams<float>& p) {
  return p.batch * p.query_len * sdpa_decode_chunks(p) * sdpa_decode_kv_groups(p);
}

int64_t sdpa_decode_partial_size(const SdpaParams<float>& p) { return p.value_dim + 2; }

int64_t sdpa_decode_workspace_size(const SdpaParams<float>& p) {
  const int64_t groups = sdpa_decode_kv_groups(p);
  const int64_t kv_per_item = (p.num_kv_heads + groups - 1) / groups;
  return kv_per_item * (p.num_heads / p.num_kv_heads) * SdpaDecodeTiles::kLogitsRow +
         std::max(p.head_dim, p.value_dim);
}

void sdpa_decode_combine(const SdpaParams<float>& p, int64_t row, const float* partials) noexcept {
  const int64_t chunks = sdpa_decode_chunks(p), size = sdpa_decode_partial_size(p);
  const int64_t b = row / (p.num_heads * p.query_len), n = row / p.query_len % p.num_heads;
  const int64_t i = row % p.query_len;
  const float* first = partials + row * chunks * size;
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < chunks; ++c) top = std::fmax(top, first[c * size]);
  if (top == -std::numeric_limits<float>::infinity()) {
    if (p.logsumexp != nullptr) p.logsumexp[row] = top;
    sdpa_fully_masked_row(p, b, n, i);
    return;
  }
  const int64_t* os = p.output_strides;
  float* out = p.output + b * os[0] + i * os[1] + n * os[2];
  for (int64_t col = 0; col < p.value_dim; ++col) out[col * os[3]] = 0.0f;
  float sum = 0.0f;
  for (int64_t c = 0; c < chunks; ++c) {
    const float* part = first + c * size;
    if (part[0] == -std::numeric_limits<float>::infinity()) continue;
    const float weight = std::exp(part[0] - top);
    sum += weight * part[1];
    for (int64_t col = 0; col < p.value_dim; ++col) out[col * os[3]] += weight * part[2 + col];
  }
  for (int64_t col = 0; col < p.value_dim; ++col) out[col * os[3]] /= sum;
  // Rows are numbered as logsumexp's (B, N, T) elements.
  if (p.logsumexp != nullptr) p.logsumexp[row] = sdpa_row_logsumexp(top, sum);
}

}  // namespace kattn::kernels
