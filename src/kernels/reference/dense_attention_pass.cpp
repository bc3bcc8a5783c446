// A whole keras.layers.Attention / AdditiveAttention call on the reference kernels, forward
// (Attention.call) and backward (its gradient, recomputing what the forward computed).
#include <algorithm>

#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

namespace {

template <typename T>
void raw_scores(const Dims& dims, const ScoreWeights<T>& w, const T* query, const T* key,
                T* scores) noexcept {
  switch (w.score) {
    case Score::kDot:
      dot_scores(dims, query, key, w.scale, scores);
      break;
    case Score::kConcat:
      concat_scores(dims, query, key, w.scale, w.concat_score_weight, scores);
      break;
    case Score::kAdditive:
      additive_scores(dims, query, key, w.scale, scores);
      break;
  }
}

}  // namespace

template <typename T>
void attention_forward(const Dims& dims, const ScoreWeights<T>& weights,
                       const ApplyScoresArgs& args, const T* query, const T* key, const T* value,
                       T* scores, T* output) noexcept {
  raw_scores(dims, weights, query, key, scores);
  apply_scores(dims, args, value, scores, output);
}

template <typename T>
void attention_backward(const Dims& dims, const ScoreWeights<T>& weights,
                        const ApplyScoresArgs& args, const T* query, const T* key, const T* value,
                        const T* d_output, const DenseGradients<T>& grads, T* workspace) noexcept {
  const int64_t count = dims.batch * dims.tq * dims.tv;
  T* probs = workspace;             // (B, Tq, Tv): softmax, then after dropout
  T* d = workspace + count;         // (B, Tq, Tv): d probs, then d scores
  T* kept = workspace + 2 * count;  // (B, Tq, Tv): the softmax before dropout
  // scores = score(query, key); probs = softmax(mask(scores))
  raw_scores(dims, weights, query, key, probs);
  mask_scores(dims, args.value_mask, args.use_causal_mask, probs);
  softmax_rows(dims.batch * dims.tq, dims.tv, probs);
  std::copy(probs, probs + count, kept);
  // dropped = dropout(probs); output = query_mask * (dropped @ value)
  if (args.dropout_rate > 0.0) dropout(count, args.dropout_key, args.dropout_rate, probs);
  weighted_values_backward(dims, probs, value, args.query_mask, d_output, d, grads.d_value);
  if (args.dropout_rate > 0.0) dropout(count, args.dropout_key, args.dropout_rate, d);
  softmax_rows_backward(dims.batch * dims.tq, dims.tv, kept, d);
  switch (weights.score) {
    case Score::kDot:
      dot_scores_backward(dims, query, key, weights.scale, d, grads.d_query, grads.d_key,
                          grads.d_scale);
      break;
    case Score::kConcat:
      concat_scores_backward(dims, query, key, weights.scale, weights.concat_score_weight, d,
                             grads.d_query, grads.d_key, grads.d_scale,
                             grads.d_concat_score_weight);
      break;
    case Score::kAdditive:
      additive_scores_backward(dims, query, key, weights.scale, d, grads.d_query, grads.d_key,
                               grads.d_scale);
      break;
  }
}

template void attention_forward<float>(const Dims&, const ScoreWeights<float>&,
                                       const ApplyScoresArgs&, const float*, const float*,
                                       const float*, float*, float*) noexcept;
template void attention_forward<double>(const Dims&, const ScoreWeights<double>&,
                                        const ApplyScoresArgs&, const double*, const double*,
                                        const double*, double*, double*) noexcept;
template void attention_backward<float>(const Dims&, const ScoreWeights<float>&,
                                        const ApplyScoresArgs&, const float*, const float*,
                                        const float*, const float*, const DenseGradients<float>&,
                                        float*) noexcept;
template void attention_backward<double>(const Dims&, const ScoreWeights<double>&,
                                         const ApplyScoresArgs&, const double*, const double*,
                                         const double*, const double*,
                                         const DenseGradients<double>&, double*) noexcept;

}  // namespace kattn::kernels::reference::dense
