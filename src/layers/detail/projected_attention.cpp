#include "layers/detail/projected_attention.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kattn/ops/sdpa.hpp"
#include "layers/detail/einsum_dense.hpp"
#include "layers/detail/projected_attention_masks.hpp"

namespace kattn::detail {

namespace {

size_t u(int64_t i) { return static_cast<size_t>(i); }

// A view whose axis i is axis perm[i] of x.
Tensor permute(const Tensor& x, const std::vector<int64_t>& perm) {
  Tensor view = x;
  std::vector<int64_t> current(u(x.rank()));  // current[i]: original axis now at position i
  std::iota(current.begin(), current.end(), 0);
  for (int64_t i = 0; i < x.rank(); ++i) {
    const auto at = std::find(current.begin() + i, current.end(), perm[u(i)]) - current.begin();
    if (at != i) {
      view = view.transpose(i, at);
      std::swap(current[u(i)], current[u(at)]);
    }
  }
  return view;
}

// The order that brings a projected tensor (B, d1, ..., d_{r-2}, heads, dim) to
// (batch axes..., attention axes..., heads, dim): Keras's einsum notation for the batch and
// attention axes.
std::vector<int64_t> frame_order(int64_t projected_rank, const std::vector<int64_t>& axes) {
  std::vector<int64_t> order;
  for (int64_t axis = 0; axis < projected_rank - 2; ++axis) {
    if (std::find(axes.begin(), axes.end(), axis) == axes.end()) order.push_back(axis);
  }
  order.insert(order.end(), axes.begin(), axes.end());
  order.push_back(projected_rank - 2);
  order.push_back(projected_rank - 1);
  return order;
}

// (B, d1, ..., heads, dim) -> (batch, len, heads, dim); a view for rank-3 inputs.
Tensor to_frame(const Tensor& projected, const std::vector<int64_t>& axes, int64_t batch,
                int64_t len) {
  const Tensor ordered = permute(projected, frame_order(projected.rank(), axes));
  return ordered.reshape({batch, len, projected.dim(-2), projected.dim(-1)});
}

// (batch, len, heads, dim) -> `projected_shape` (B, d1, ..., heads, dim), contiguous.
Tensor from_frame(const Tensor& frame, const Shape& projected_shape,
                  const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(projected_shape.size());
  const std::vector<int64_t> order = frame_order(rank, axes);
  Shape ordered_shape;
  for (const int64_t axis : order) ordered_shape.push_back(projected_shape[u(axis)]);
  std::vector<int64_t> inverse(u(rank));
  for (int64_t i = 0; i < rank; ++i) inverse[u(order[u(i)])] = i;
  return permute(frame.reshape(ordered_shape), inverse).contiguous();
}

// A kernel (inputs..., outputs...) as the (product of the first `inputs` axes, the rest) matrix.
kernels::PackedMatrix pack(const Tensor& kernel, int64_t inputs) {
  const Tensor dense = kernel.contiguous();
  int64_t rows = 1;
  for (int64_t axis = 0; axis < inputs; ++axis) rows *= dense.dim(axis);
  return kernels::PackedMatrix(dense.data(), rows, rows == 0 ? 0 : dense.size() / rows);
}

}  // namespace

std::shared_ptr<const PackedProjections> pack_projections(const ProjectedAttentionWeights& w) {
  return std::make_shared<const PackedProjections>(PackedProjections{
      pack(*w.query_kernel, 1), pack(*w.key_kernel, 1), pack(*w.value_kernel, 1),
      w.gate_kernel != nullptr ? std::optional(pack(*w.gate_kernel, 1)) : std::nullopt,
      pack(*w.output_kernel, 2)});
}

AttentionOutput projected_attention_call(ErrorSource source,
                                         const ProjectedAttentionSettings& settings,
                                         const ProjectedAttentionWeights& weights,
                                         const Tensor& query, const Tensor& value,
                                         const Tensor& key, const ProjectedAttentionCallArgs& args,
                                         const SeedGenerator& seeds) {
  const std::vector<int64_t>& axes = settings.attention_axes;
  const ScoresLayout layout = scores_layout(query.shape(), key.shape(), settings.num_heads, axes);

  // Causal and sliding-window bands run inside the kernel when attention is over axis 1, where
  // Keras's (1, T, S) mask means exactly that; over other axes they go through Keras's literal
  // broadcasting.
  const bool band_in_kernel = axes == std::vector<int64_t>{1};
  AttentionMasks masks;
  masks.query_mask = args.query_mask ? &*args.query_mask : nullptr;
  masks.value_mask = args.value_mask ? &*args.value_mask : nullptr;
  masks.key_mask = args.key_mask ? &*args.key_mask : nullptr;
  masks.attention_mask = args.attention_mask ? &*args.attention_mask : nullptr;
  masks.causal = args.use_causal_mask && !band_in_kernel;
  masks.sliding_window = band_in_kernel ? 0 : settings.sliding_window;
  std::optional<Mask> mask =
      combine_attention_masks(source, layout, query.shape(), value.shape(), key.shape(), masks);

  const PackedProjections* packed = weights.packed;
  // query (B, ..., Dq) -> (B, ..., N, H); key (B, ..., Dk) -> (B, ..., K, H);
  // value (B, ..., Dv) -> (B, ..., K, Hv)
  const Tensor q = einsum_dense(query, 1, *weights.query_kernel, weights.query_bias,
                                packed != nullptr ? &packed->query : nullptr);
  const Tensor k = einsum_dense(key, 1, *weights.key_kernel, weights.key_bias,
                                packed != nullptr ? &packed->key : nullptr);
  const Tensor v = einsum_dense(value, 1, *weights.value_kernel, weights.value_bias,
                                packed != nullptr ? &packed->value : nullptr);

  // Keras's MultiHeadAttention._compute_attention: the fused path unless dropout is configured,
  // scores are asked for, or the projected inputs are not rank 4.
  const bool dot_product_path =
      !(settings.dropout > 0.0 || args.return_attention_scores || q.rank() != 4);
  ops::SdpaOptions options;
  options.scale = settings.scale;
  options.mask = std::move(mask);
  options.is_causal = args.use_causal_mask && band_in_kernel;
  options.sliding_window = band_in_kernel ? settings.sliding_window : 0;
  options.fully_masked_rows =
      dot_product_path ? ops::FullyMaskedRows::kUniform : ops::FullyMaskedRows::kZero;
  if (!dot_product_path && args.training && settings.dropout > 0.0) {
    options.dropout_rate = settings.dropout;
    options.dropout_key = seeds.next_key();
  }
  options.return_scores = args.return_attention_scores;

  // (batch, T, N, H), (batch, S, K, H), (batch, S, K, Hv) -> (batch, T, N, Hv), (batch, N, T, S)
  const ops::SdpaResult<float> attended =
      ops::scaled_dot_product_attention(to_frame(q, axes, layout.batch, layout.query_len),
                                        to_frame(k, axes, layout.batch, layout.key_len),
                                        to_frame(v, axes, layout.batch, layout.key_len), options);

  // heads (B, ..., N, Hv)
  Shape heads_shape = q.shape();
  heads_shape.back() = v.dim(-1);
  Tensor heads = from_frame(attended.output, heads_shape, axes);

  if (weights.gate_kernel != nullptr) {
    // heads *= sigmoid(gate(query)), gate (B, ..., N, Hv)
    const Tensor gate = einsum_dense(query, 1, *weights.gate_kernel, weights.gate_bias,
                                     packed != nullptr ? &*packed->gate : nullptr);
    float* h = heads.data();
    const float* g = gate.data();
    for (int64_t i = 0; i < heads.size(); ++i) h[i] *= 1.0f / (1.0f + std::exp(-g[i]));
  }

  // (B, ..., N, Hv) -> (B, ..., *O)
  AttentionOutput result;
  result.output = einsum_dense(heads, 2, *weights.output_kernel, weights.output_bias,
                               packed != nullptr ? &packed->output : nullptr);
  if (attended.scores) result.attention_scores = attended.scores->reshape(layout.shape);
  return result;
}

}  // namespace kattn::detail
