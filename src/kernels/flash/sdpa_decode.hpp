// The decode kernel: a few query rows (T <= kMaxQueryLen) against many keys, as when a model
// generates one token at a time. The tiled kernel would spend most of its query lanes on
// padding there; this one is bound by reading K and V once. Each query row's keys are split into
// chunks of kKeyChunk, so the cores share even a single head:
//
//   chunk (row, c):  m_c = max_j logits, l_c = sum_j exp(logit_j - m_c),
//                    o_c = sum_j dropout(exp(logit_j - m_c)) value_j      j in chunk c
//   combine (row):   out = sum_c exp(m_c - M) o_c / sum_c exp(m_c - M) l_c, M = max_c m_c
//
// An item is one chunk of one (batch, query position) for a group of key/value heads, key by
// key across the group's heads: K[b, j, :, :] is one contiguous run, where one head's rows lie a
// whole (K * H) stride apart, each on a page of its own. The chunks are fixed and combined in
// order, so the result does not depend on the thread count. Scores are never written here:
// calls that ask for them take the tiled kernel.
#pragma once

#include <cstdint>

#include "kernels/reference/sdpa.hpp"

namespace kattn::kernels {

struct SdpaDecodeTiles {
  static constexpr int64_t kMaxQueryLen = 4;
  static constexpr int64_t kKeyChunk = 256;
  // Floats per head in the logits workspace: a chunk, padded to whole vectors of any width.
  static constexpr int64_t kLogitsRow = kKeyChunk + 16;
};

// Whether params should run the decode kernel.
bool sdpa_decode_applies(const SdpaParams<float>& params);

// Rows B * N * T, row r = ((b * N) + n) * T + i; chunks per row ceil(S / kKeyChunk).
int64_t sdpa_decode_rows(const SdpaParams<float>& params);
int64_t sdpa_decode_chunks(const SdpaParams<float>& params);
// Groups the K key/value heads are split into, enough for every core to have items even when
// there are few chunks: item = ((b * T + i) * chunks + c) * groups + g.
int64_t sdpa_decode_kv_groups(const SdpaParams<float>& params);
int64_t sdpa_decode_items(const SdpaParams<float>& params);

// Floats of the partial result of one (row, chunk): m, l, then Hv values of o; the partials of
// (row, c) start at (row * chunks + c) * sdpa_decode_partial_size(params).
int64_t sdpa_decode_partial_size(const SdpaParams<float>& params);
// Floats of workspace one thread needs: the logits of an item's heads, and one key or value row.
int64_t sdpa_decode_workspace_size(const SdpaParams<float>& params);

// Computes item `item` into `partials`, using `workspace`, sdpa_decode_workspace_size(params)
// floats owned by the calling thread.
void sdpa_decode_item_portable(const SdpaParams<float>& params, int64_t item, float* workspace,
                               float* partials) noexcept;
void sdpa_decode_item_avx2(const SdpaParams<float>& params, int64_t item, float* workspace,
                           float* partials) noexcept;
void sdpa_decode_item_avx512(const SdpaParams<float>& params, int64_t item, float* workspace,
                             float* partials) noexcept;

// Writes output row `row` from its chunks' partials (plain C++: a few values per chunk), and its
// log-sum-exp when params.logsumexp is set (-inf for a row that attends no key).
void sdpa_decode_combine(const SdpaParams<float>& params, int64_t row,
                         const float* partials) noexcept;

}  // namespace kattn::kernels
