// Keras's score masking for Attention and AdditiveAttention:
// - Attention._calculate_score_mask: without use_causal_mask the mask is value_mask
//   (B, 1, Tv); with it, the lower triangle row >= col of a (1, Tq, Tv) matrix (top-left
//   aligned, also when Tq != Tv), ANDed with value_mask when there is one.
// - Attention._apply_scores: `scores -= 1e9 * cast(logical_not(mask), scores.dtype)`, in
//   float32. Unmasked scores are unchanged (x - 0 == x); a masked score is rounded to float32
//   and 1e9 subtracted in float32, also in the double instantiation, so that a fully masked
//   row reproduces Keras: all entries equal (a uniform softmax) while |score| <= 32, where
//   float32's spacing near 1e9 (64) absorbs the score, and differing entries beyond.
//
//   value_mask (B, Tv) or null; scores (B, Tq, Tv), in place
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void mask_scores(const Dims& dims, const bool* value_mask, bool use_causal_mask,
                 T* scores) noexcept {
  if (value_mask == nullptr && !use_causal_mask) return;
  for (int64_t b = 0; b < dims.batch; ++b) {
    const bool* keep = value_mask != nullptr ? value_mask + b * dims.tv : nullptr;
    for (int64_t i = 0; i < dims.tq; ++i) {
      T* row = scores + (b * dims.tq + i) * dims.tv;
      for (int64_t j = 0; j < dims.tv; ++j) {
        const bool masked = (keep != nullptr && !keep[j]) || (use_causal_mask && j > i);
        if (masked) row[j] = static_cast<T>(static_cast<float>(row[j]) - 1.0e9f);
      }
    }
  }
}

template void mask_scores<float>(const Dims&, const bool*, bool, float*) noexcept;
template void mask_scores<double>(const Dims&, const bool*, bool, double*) noexcept;

}  // namespace kattn::kernels::reference::dense
