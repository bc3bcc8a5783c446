#include "ops/dense_attention.hpp"

#include <vector>

#include "kattn/core/context.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_flash.hpp"
#include "kernels/flash/sdpa_flash_backward.hpp"

namespace kattn::ops {

namespace dense = kernels::reference::dense;
using Kind = DenseScore::Kind;

namespace {

const float* data_or_null(const Tensor* weight) {
  return weight != nullptr ? weight->data() : nullptr;
}

dense::ScoreWeights<float> score_weights(const DenseScore& score) {
  dense::ScoreWeights<float> weights;
  switch (score.kind) {
    case Kind::kDot:
      weights.score = dense::Score::kDot;
      break;
    case Kind::kConcat:
      weights.score = dense::Score::kConcat;
      weights.concat_score_weight = score.concat_score_weight->data();
      break;
    case Kind::kAdditive:
      weights.score = dense::Score::kAdditive;
      break;
  }
  weights.scale = data_or_null(score.scale);
  return weights;
}

dense::ApplyScoresArgs apply_args(const DenseAttentionRun& run) {
  dense::ApplyScoresArgs apply;
  apply.query_mask = run.query_mask;
  apply.value_mask = run.value_mask;
  apply.use_causal_mask = run.use_causal_mask;
  apply.dropout_rate = run.dropout_rate;
  apply.dropout_key = run.dropout_key;
  return apply;
}

void run_reference(const DenseAttentionRun& run) {
  const dense::Dims& dims = run.dims;
  std::vector<float> own_scores;
  float* scores = run.scores;
  if (scores == nullptr) {
    own_scores.resize(static_cast<size_t>(dims.batch * dims.tq * dims.tv));
    scores = own_scores.data();
  }
  dense::attention_forward(dims, score_weights(run.score), apply_args(run), run.query, run.key,
                           run.value, scores, run.output);
}

// The call as one head of scaled dot-product attention, (B, T, 1, H) views of the rows, and
// Keras's dense-attention rules as the fused kernels' FlashScoring.
struct FusedCall {
  kernels::SdpaParams<float> p;
  kernels::FlashScoring scoring;
};

void contiguous_rows(int64_t (&strides)[4], int64_t len, int64_t width) {
  strides[0] = len * width;
  strides[1] = strides[2] = width;
  strides[3] = 1;
}

FusedCall fused_call(const DenseAttentionRun& run) {
  const dense::Dims& d = run.dims;
  FusedCall call;
  kernels::SdpaParams<float>& p = call.p;
  p.batch = d.batch;
  p.query_len = d.tq;
  p.key_len = d.tv;
  p.num_heads = p.num_kv_heads = 1;
  p.head_dim = d.dim;
  p.value_dim = d.value_dim;
  const auto rows = contiguous_rows;
  p.query = run.query;
  rows(p.query_strides, d.tq, d.dim);
  p.key = run.key;
  rows(p.key_strides, d.tv, d.dim);
  p.value = run.value;
  rows(p.value_strides, d.tv, d.value_dim);
  if (run.value_mask != nullptr) {
    p.mask = run.value_mask;  // (B, 1, 1, Tv) broadcast
    p.mask_strides[0] = d.tv;
    p.mask_strides[3] = 1;
  }
  p.is_causal = run.use_causal_mask;
  p.dropout_rate = run.dropout_rate;
  p.dropout_key = run.dropout_key;
  p.output = run.output;
  rows(p.output_strides, d.tq, d.value_dim);
  p.scores = run.scores;

  kernels::FlashScoring& scoring = call.scoring;
  const float* scale = data_or_null(run.score.scale);
  switch (run.score.kind) {
    case Kind::kDot:
      scoring.score = kernels::FlashScoring::Score::kDot;
      p.scale = scale != nullptr ? *scale : 1.0f;
      break;
    case Kind::kConcat:
      scoring.score = kernels::FlashScoring::Score::kConcat;
      scoring.concat_scale = scale;
      scoring.concat_score_weight = *run.score.concat_score_weight->data();
      break;
    case Kind::kAdditive:
      scoring.score = kernels::FlashScoring::Score::kAdditive;
      scoring.additive_scale = scale;
      break;
  }
  scoring.subtract_1e9 = true;
  scoring.scores_after_dropout = true;
  scoring.query_mask = run.query_mask;
  return call;
}

void run_fused(const DenseAttentionRun& run, kernels::Isa isa, int64_t threads) {
  const FusedCall call = fused_call(run);
  kernels::sdpa_flash_run(call.p, call.scoring, isa, threads);
}

// The fused backward recomputes the probabilities from each row's log-sum-exp and the output
// (for D = rowsum(dO * O)), which it takes from a forward pass run again: a DenseAttentionCall
// keeps the inputs only, so that call() pays nothing for training and a backward never depends
// on which kernels ran the forward. The extra pass costs about a third of the backward (one
// tanh per score against its two).
void run_fused_backward(const DenseAttentionRun& run, const float* d_output,
                        const dense::DenseGradients<float>& grads, kernels::Isa isa,
                        int64_t threads) {
  const dense::Dims& d = run.dims;
  FusedCall call = fused_call(run);
  std::vector<float> output(static_cast<size_t>(d.batch * d.tq * d.value_dim));
  std::vector<float> logsumexp(static_cast<size_t>(d.batch * d.tq));
  std::vector<float> row_max(static_cast<size_t>(d.batch * d.tq));
  call.scoring.row_max = row_max.data();
  call.p.output = output.data();
  call.p.scores = nullptr;
  call.p.logsumexp = logsumexp.data();
  kernels::sdpa_flash_run(call.p, call.scoring, isa, threads);

  kernels::SdpaForwardSaved saved;
  saved.output = output.data();
  contiguous_rows(saved.output_strides, d.tq, d.value_dim);
  saved.logsumexp = logsumexp.data();
  saved.row_max = row_max.data();
  kernels::SdpaGradParams<float> input_grads;
  input_grads.d_output = d_output;
  contiguous_rows(input_grads.d_output_strides, d.tq, d.value_dim);
  input_grads.d_query = grads.d_query;
  input_grads.d_key = grads.d_key;
  input_grads.d_value = grads.d_value;
  const kernels::FlashScoringGrads weight_grads{
      .d_scale = grads.d_scale,
      .d_concat_score_weight = grads.d_concat_score_weight,
      .accumulate = true};
  kernels::sdpa_flash_backward_run(call.p, call.scoring, saved, input_grads, weight_grads, isa,
                                   threads);
}

std::string describe(const dense::Dims& d, bool scores) {
  return "B=" + std::to_string(d.batch) + " Tq=" + std::to_string(d.tq) +
         " Tv=" + std::to_string(d.tv) + " D=" + std::to_string(d.dim) +
         " Dv=" + std::to_string(d.value_dim) + (scores ? ", scores" : "");
}

}  // namespace

DenseAttentionDims dense_attention_dims(const Shape& query, const Shape& key, const Shape& value) {
  DenseAttentionDims dims;
  dims.batch = num_elements(Shape(query.begin(), query.end() - 2));
  dims.tq = query[query.size() - 2];
  dims.tv = key[key.size() - 2];
  dims.dim = query.back();
  dims.value_dim = value.back();
  return dims;
}

void dense_attention(const std::string& layer, const DenseAttentionRun& run) {
  // With no values (Tv = 0) Keras's softmax over the empty axis weighs nothing: the output
  // stays zeros.
  if (run.dims.tv == 0) return;
  const kernels::Isa isa = kernels::active_isa();
  const int64_t threads = isa == kernels::Isa::kReference ? 1 : num_threads();
  kernels::report_kernel(layer.c_str(), isa, threads,
                         [&] { return describe(run.dims, run.scores != nullptr); });
  if (isa == kernels::Isa::kReference) {
    run_reference(run);
  } else {
    run_fused(run, isa, threads);
  }
}

void dense_attention_backward(const std::string& layer, const DenseAttentionRun& run,
                              const float* d_output, const dense::DenseGradients<float>& grads) {
  if (run.dims.tv == 0) return;  // an output of zeros has zero gradients
  const kernels::Isa isa = kernels::active_isa();
  const int64_t threads = isa == kernels::Isa::kReference ? 1 : num_threads();
  kernels::report_kernel((layer + " backward").c_str(), isa, threads,
                         [&] { return describe(run.dims, false); });
  if (isa != kernels::Isa::kReference) {
    run_fused_backward(run, d_output, grads, isa, threads);
    return;
  }
  std::vector<float> workspace(
      static_cast<size_t>(dense::attention_backward_workspace_size(run.dims)));
  dense::attention_backward(run.dims, score_weights(run.score), apply_args(run), run.query, run.key,
                            run.value, d_output, grads, workspace.data());
}

}  // namespace kattn::ops
