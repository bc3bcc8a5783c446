// The specification kernels of keras.layers.Attention and keras.layers.AdditiveAttention: plain
// loops over contiguous row-major arrays, in the element type T (float, or double for the
// double-precision check of the float results).
//
//   query  (B, Tq, D)      key   (B, Tv, D)      value (B, Tv, Dv)
//   scores (B, Tq, Tv)     output (B, Tq, Dv)
//   query_mask (B, Tq)     value_mask (B, Tv)    (true = keep)
//
// B is the product of every axis before (T, dim): Keras treats all leading axes as batch axes.
// Kernels allocate nothing, throw nothing and trust their caller (the layer validates).
#pragma once

#include <cstdint>

namespace kattn::kernels::reference::dense {

// Sizes of one call, leading axes flattened into `batch`.
struct Dims {
  int64_t batch = 0;      // B
  int64_t tq = 0;         // Tq: query length
  int64_t tv = 0;         // Tv: value (and key) length
  int64_t dim = 0;        // D: query and key features
  int64_t value_dim = 0;  // Dv: value features
};

// Visits every (query row, key row) pair of one call in (b, i, j) order: visit(q, k, s) with
// q = (b * Tq + i) * D and k = (b * Tv + j) * D the offsets of the rows in query and key (and
// in their gradients), s = (b * Tq + i) * Tv + j the pair's entry in a (B, Tq, Tv) score tensor.
template <typename Visit>
void for_each_pair(const Dims& dims, Visit&& visit) {
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t i = 0; i < dims.tq; ++i) {
      const int64_t row = b * dims.tq + i;
      for (int64_t j = 0; j < dims.tv; ++j) {
        visit(row * dims.dim, (b * dims.tv + j) * dims.dim, row * dims.tv + j);
      }
    }
  }
}

// The form of every score function: scores[b, i, j] = finish(sum over d of
// term(query[b, i, d], key[b, j, d], d)).
template <typename T, typename Term, typename Finish>
void score_pairs(const Dims& dims, const T* query, const T* key, T* scores, Term&& term,
                 Finish&& finish) {
  for_each_pair(dims, [&](int64_t q, int64_t k, int64_t s) {
    T sum = 0;
    for (int64_t d = 0; d < dims.dim; ++d) sum += term(query[q + d], key[k + d], d);
    scores[s] = finish(sum);
  });
}

// Attention(score_mode="dot"): scores = query . key^T, then times *scale when scale is not null.
// scale: () or null.
template <typename T>
void dot_scores(const Dims& dims, const T* query, const T* key, const T* scale, T* scores) noexcept;

// Attention(score_mode="concat"):
//   scores = concat_score_weight * sum_d tanh(scale * (q_d + k_d))   (no scale when null).
// scale: () or null; concat_score_weight: ().
template <typename T>
void concat_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                   const T* concat_score_weight, T* scores) noexcept;

// AdditiveAttention: scores = sum_d scale_d * tanh(q_d + k_d)   (scale_d = 1 when null).
// scale: (D,) or null.
template <typename T>
void additive_scores(const Dims& dims, const T* query, const T* key, const T* scale,
                     T* scores) noexcept;

// Keras's masking of the scores: key j is masked for query i when value_mask[b, j] is false
// or (use_causal_mask and j > i); a masked score becomes float32(score) - 1e9 in float32.
// value_mask: (B, Tv) or null. scores: (B, Tq, Tv), in place.
template <typename T>
void mask_scores(const Dims& dims, const bool* value_mask, bool use_causal_mask,
                 T* scores) noexcept;

// exp(x - max) / sum over each row of `length` elements, in place, as numpy computes it.
// x: (rows, length).
template <typename T>
void softmax_rows(int64_t rows, int64_t length, T* x) noexcept;

// Dropout on `count` probabilities: element n is kept when dropout_keeps(key, n, rate) and
// then divided by 1 - rate, else set to 0. probs: (count,), in place.
template <typename T>
void dropout(int64_t count, uint64_t key, double rate, T* probs) noexcept;

// output = probs @ value, then rows whose query_mask is false multiplied by 0.
// probs: (B, Tq, Tv); value: (B, Tv, Dv); query_mask: (B, Tq) or null; output: (B, Tq, Dv).
template <typename T>
void weighted_values(const Dims& dims, const T* probs, const T* value, const bool* query_mask,
                     T* output) noexcept;

// What Attention does once the scores exist: mask, softmax, dropout (when dropout_rate > 0),
// probs @ value, query mask. `scores` holds the raw scores on entry and the attention
// distribution (after dropout) on return.
struct ApplyScoresArgs {
  const bool* query_mask = nullptr;  // (B, Tq) or null
  const bool* value_mask = nullptr;  // (B, Tv) or null
  bool use_causal_mask = false;
  double dropout_rate = 0.0;  // 0 for inference calls
  uint64_t dropout_key = 0;
};
template <typename T>
void apply_scores(const Dims& dims, const ApplyScoresArgs& args, const T* value, T* scores,
                  T* output) noexcept;

// Backward passes (dense_backward.cpp): each takes the forward's inputs and the gradient of
// its output, and ADDS the gradients of its inputs and weights (d_scale and the like: null
// when the forward had no such weight). Masking (mask_scores) adds a constant, so its backward
// is the identity; dropout's backward is dropout() itself, with the forward's key.

// weighted_values: d_probs (B, Tq, Tv) written, d_value (B, Tv, Dv) added into.
template <typename T>
void weighted_values_backward(const Dims& dims, const T* probs, const T* value,
                              const bool* query_mask, const T* d_output, T* d_probs,
                              T* d_value) noexcept;

// softmax_rows: `d` holds d probs on entry and d logits on return. probs, d: (rows, length).
template <typename T>
void softmax_rows_backward(int64_t rows, int64_t length, const T* probs, T* d) noexcept;

// dot_scores / concat_scores / additive_scores: d_query (B, Tq, D), d_key (B, Tv, D) and the
// weights' gradients added into.
template <typename T>
void dot_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                         const T* d_scores, T* d_query, T* d_key, T* d_scale) noexcept;
template <typename T>
void concat_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                            const T* concat_score_weight, const T* d_scores, T* d_query, T* d_key,
                            T* d_scale, T* d_concat_score_weight) noexcept;
template <typename T>
void additive_scores_backward(const Dims& dims, const T* query, const T* key, const T* scale,
                              const T* d_scores, T* d_query, T* d_key, T* d_scale) noexcept;

// The whole call: a score function and its weights, then apply_scores.
enum class Score { kDot, kConcat, kAdditive };
template <typename T>
struct ScoreWeights {
  Score score = Score::kDot;
  const T* scale = nullptr;                // () for kDot / kConcat, (D,) for kAdditive, or null
  const T* concat_score_weight = nullptr;  // (), kConcat only
};

// scores (B, Tq, Tv) receives the attention distribution (after dropout), output (B, Tq, Dv).
template <typename T>
void attention_forward(const Dims& dims, const ScoreWeights<T>& weights,
                       const ApplyScoresArgs& args, const T* query, const T* key, const T* value,
                       T* scores, T* output) noexcept;

// Gradients attention_backward adds into (+=); a weight's is null when the call has no such
// weight.
template <typename T>
struct DenseGradients {
  T* d_query = nullptr;                // (B, Tq, D)
  T* d_key = nullptr;                  // (B, Tv, D)
  T* d_value = nullptr;                // (B, Tv, Dv)
  T* d_scale = nullptr;                // scale's shape
  T* d_concat_score_weight = nullptr;  // ()
};

// Elements of work buffer attention_backward needs.
inline int64_t attention_backward_workspace_size(const Dims& dims) {
  return 3 * dims.batch * dims.tq * dims.tv;
}

// The gradient of sum(output * d_output) for the attention_forward call with the same
// arguments (the same dropout key drops the same elements), recomputing the forward.
template <typename T>
void attention_backward(const Dims& dims, const ScoreWeights<T>& weights,
                        const ApplyScoresArgs& args, const T* query, const T* key, const T* value,
                        const T* d_output, const DenseGradients<T>& grads, T* workspace) noexcept;

}  // namespace kattn::kernels::reference::dense
