// Everything Attention.call does after Attention._calculate_scores, in Keras's order:
// _calculate_score_mask + the -1e9 bias of _apply_scores (mask_scores), ops.softmax
// (softmax_rows), dropout in training mode (dropout), matmul with value and the query mask
// (weighted_values). AdditiveAttention inherits all of it.
//
//   scores (B, Tq, Tv): raw scores in, attention distribution out
//   value (B, Tv, Dv)  ->  output (B, Tq, Dv)
#include "kernels/reference/dense_attention.hpp"

namespace kattn::kernels::reference::dense {

template <typename T>
void apply_scores(const Dims& dims, const ApplyScoresArgs& args, const T* value, T* scores,
                  T* output) noexcept {
  mask_scores(dims, args.value_mask, args.use_causal_mask, scores);
  softmax_rows(dims.batch * dims.tq, dims.tv, scores);
  if (args.dropout_rate > 0.0) {
    dropout(dims.batch * dims.tq * dims.tv, args.dropout_key, args.dropout_rate, scores);
  }
  weighted_values(dims, scores, value, args.query_mask, output);
}

template void apply_scores<float>(const Dims&, const ApplyScoresArgs&, const float*, float*,
                                  float*) noexcept;
template void apply_scores<double>(const Dims&, const ApplyScoresArgs&, const double*, double*,
                                   double*) noexcept;

}  // namespace kattn::kernels::reference::dense
