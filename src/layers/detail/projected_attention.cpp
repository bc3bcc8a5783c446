#include "layers/detail/projected_attention.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kattn/ops/sdpa.hpp"
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

// x += y, elementwise; both contiguous and of one shape.
void add_into(Tensor& x, const Tensor& y) {
  float* a = x.data();
  const float* b = y.data();
  for (int64_t i = 0; i < x.size(); ++i) a[i] += b[i];
}

// The member of `tensors` holding the weight named `name` (Keras's names, as built).
template <typename T>
T** slot(ProjectedTensors<T>& tensors, const std::string& name) {
  if (name == "query/kernel") return &tensors.query_kernel;
  if (name == "query/bias") return &tensors.query_bias;
  if (name == "key/kernel") return &tensors.key_kernel;
  if (name == "key/bias") return &tensors.key_bias;
  if (name == "gate/kernel") return &tensors.gate_kernel;
  if (name == "gate/bias") return &tensors.gate_bias;
  if (name == "value/kernel") return &tensors.value_kernel;
  if (name == "value/bias") return &tensors.value_bias;
  if (name == "attention_output/kernel") return &tensors.output_kernel;
  return &tensors.output_bias;  // "attention_output/bias": the only other weight
}

}  // namespace

std::shared_ptr<const PackedProjections> pack_projections(const ProjectedAttentionWeights& w) {
  return std::make_shared<const PackedProjections>(
      PackedProjections{ops::pack_kernel(*w.query_kernel, 1), ops::pack_kernel(*w.key_kernel, 1),
                        ops::pack_kernel(*w.value_kernel, 1),
                        w.gate_kernel != nullptr ? ops::pack_kernel(*w.gate_kernel, 1) : nullptr,
                        ops::pack_kernel(*w.output_kernel, 2)});
}

namespace {

// What a call computed on its way to the output, all of it kept by a training call.
struct ProjectedSaved : SavedForBackward {
  Tensor query, value, key;  // the call's inputs (key: the value when none was passed)
  bool has_key = false;
  std::vector<int64_t> axes;
  ScoresLayout layout;
  Tensor q, k, v;                    // (B, ..., N, H), (B, ..., K, H), (B, ..., K, Hv)
  Tensor q_frame, k_frame, v_frame;  // (batch, T, N, H), (batch, S, K, H), (batch, S, K, Hv)
  ops::SdpaOptions options;          // the mask, the band and the dropout key used
  ops::SdpaResult<float> attended;   // (batch, T, N, Hv)
  Tensor heads;                      // (B, ..., N, Hv), before the gate
  std::optional<Tensor> gate;        // sigmoid(query @ gate/kernel + gate/bias), as heads
  Tensor gated_heads;                // heads * gate: the output projection's input
  AttentionOutput result;
};

// x's last `axes` axes contracted with `kernel`, plus `bias`: one of the layer's projections,
// through its packed copy (`which` of weights.packed) when the layer has one.
Tensor project(const ProjectedAttentionWeights& weights,
               std::shared_ptr<const ops::PackedKernel> PackedProjections::*which, const Tensor& x,
               int64_t axes, const Tensor& kernel, const Tensor* bias) {
  const PackedProjections* packed = weights.packed;
  return ops::einsum_dense(x, axes, kernel, bias,
                           packed != nullptr ? (packed->*which).get() : nullptr);
}

// heads *= sigmoid(query @ gate/kernel + gate/bias), heads (B, ..., N, Hv); returns the sigmoid.
Tensor apply_gate(const ProjectedAttentionWeights& weights, const Tensor& query, Tensor& heads) {
  Tensor gate =
      project(weights, &PackedProjections::gate, query, 1, *weights.gate_kernel, weights.gate_bias);
  float* h = heads.data();
  float* g = gate.data();
  for (int64_t i = 0; i < heads.size(); ++i) {
    g[i] = 1.0f / (1.0f + std::exp(-g[i]));
    h[i] *= g[i];
  }
  return gate;
}

// (B, ..., N, Hv) -> (B, ..., *O)
Tensor output_projection(const ProjectedAttentionWeights& weights, const Tensor& heads) {
  return project(weights, &PackedProjections::output, heads, 2, *weights.output_kernel,
                 weights.output_bias);
}

ProjectedSaved run(ErrorSource source, const ProjectedAttentionSettings& settings,
                   const ProjectedAttentionWeights& weights, const Tensor& query,
                   const Tensor& value, const Tensor& key, const ProjectedAttentionCallArgs& args,
                   const SeedGenerator& seeds, bool for_backward) {
  ProjectedSaved saved;
  const std::vector<int64_t>& axes = settings.attention_axes;
  const ScoresLayout layout = scores_layout(query.shape(), key.shape(), settings.num_heads, axes);

  // Causal and sliding-window bands run inside the kernel when attention is over axis 1, where
  // Keras's (1, T, S) mask means exactly that; over other axes they go through Keras's literal
  // broadcasting.
  const bool band_in_kernel = axes == std::vector<int64_t>{1};
  // A query mask over (B, T) goes to the kernel as such: ANDed with a key padding mask it would
  // make a (B, T, S) mask.
  const bool query_rows = band_in_kernel && query.rank() == 3 && args.query_mask &&
                          args.query_mask->shape() == Shape{query.dim(0), query.dim(1)};
  AttentionMasks masks;
  masks.query_mask = args.query_mask && !query_rows ? &*args.query_mask : nullptr;
  masks.value_mask = args.value_mask ? &*args.value_mask : nullptr;
  masks.key_mask = args.key_mask ? &*args.key_mask : nullptr;
  masks.attention_mask = args.attention_mask ? &*args.attention_mask : nullptr;
  masks.causal = args.use_causal_mask && !band_in_kernel;
  masks.sliding_window = band_in_kernel ? 0 : settings.sliding_window;
  std::optional<Mask> mask =
      combine_attention_masks(source, layout, query.shape(), value.shape(), key.shape(), masks);

  // query (B, ..., Dq) -> (B, ..., N, H); key (B, ..., Dk) -> (B, ..., K, H);
  // value (B, ..., Dv) -> (B, ..., K, Hv)
  const Tensor q = project(weights, &PackedProjections::query, query, 1, *weights.query_kernel,
                           weights.query_bias);
  const Tensor k =
      project(weights, &PackedProjections::key, key, 1, *weights.key_kernel, weights.key_bias);
  const Tensor v = project(weights, &PackedProjections::value, value, 1, *weights.value_kernel,
                           weights.value_bias);

  // Keras's MultiHeadAttention._compute_attention: the fused path unless dropout is configured,
  // scores are asked for, or the projected inputs are not rank 4.
  const bool dot_product_path =
      !(settings.dropout > 0.0 || args.return_attention_scores || q.rank() != 4);
  ops::SdpaOptions options;
  options.scale = settings.scale;
  options.mask = std::move(mask);
  if (query_rows) options.query_mask = *args.query_mask;
  options.is_causal = args.use_causal_mask && band_in_kernel;
  options.sliding_window = band_in_kernel ? settings.sliding_window : 0;
  options.fully_masked_rows =
      dot_product_path ? ops::FullyMaskedRows::kUniform : ops::FullyMaskedRows::kZero;
  if (!dot_product_path && args.training && settings.dropout > 0.0) {
    options.dropout_rate = settings.dropout;
    options.dropout_key = seeds.next_key();
  }
  options.return_scores = args.return_attention_scores;
  // What the fused backward recomputes the probabilities from.
  options.return_logsumexp = for_backward;

  // (batch, T, N, H), (batch, S, K, H), (batch, S, K, Hv) -> (batch, T, N, Hv), (batch, N, T, S)
  const Tensor q_frame = to_frame(q, axes, layout.batch, layout.query_len);
  const Tensor k_frame = to_frame(k, axes, layout.batch, layout.key_len);
  const Tensor v_frame = to_frame(v, axes, layout.batch, layout.key_len);
  ops::SdpaResult<float> attended =
      ops::scaled_dot_product_attention(q_frame, k_frame, v_frame, options);

  // heads (B, ..., N, Hv)
  Shape heads_shape = q.shape();
  heads_shape.back() = v.dim(-1);
  Tensor heads = from_frame(attended.output, heads_shape, axes);
  Tensor gated_heads = heads;

  if (weights.gate_kernel != nullptr) {
    if (for_backward) gated_heads = heads.clone();
    saved.gate = apply_gate(weights, query, gated_heads);
  }
  saved.result.output = output_projection(weights, gated_heads);
  if (attended.scores) saved.result.attention_scores = attended.scores->reshape(layout.shape);
  if (for_backward) {
    saved.query = query;
    saved.value = value;
    saved.key = key;
    saved.has_key = args.key.has_value();
    saved.axes = axes;
    saved.layout = layout;
    saved.q = q;
    saved.k = k;
    saved.v = v;
    saved.q_frame = q_frame;
    saved.k_frame = k_frame;
    saved.v_frame = v_frame;
    saved.options = std::move(options);
    saved.attended = std::move(attended);
    saved.heads = heads;
    saved.gated_heads = gated_heads;
  }
  return saved;
}

}  // namespace

AttentionOutput projected_attention_call(ErrorSource source,
                                         const ProjectedAttentionSettings& settings,
                                         const ProjectedAttentionWeights& weights,
                                         const Tensor& query, const Tensor& value,
                                         const Tensor& key, const ProjectedAttentionCallArgs& args,
                                         const SeedGenerator& seeds) {
  return run(source, settings, weights, query, value, key, args, seeds, false).result;
}

void cache_projections(const ProjectedAttentionWeights& weights, const Tensor& value,
                       const Tensor& key, KVCache& cache) {
  // (B, T', Dk) -> (B, T', K, H); (B, T', Dv) -> (B, T', K, Hv)
  cache.append(
      project(weights, &PackedProjections::key, key, 1, *weights.key_kernel, weights.key_bias),
      project(weights, &PackedProjections::value, value, 1, *weights.value_kernel,
              weights.value_bias));
}

Tensor projected_attention_cached(const ProjectedAttentionSettings& settings,
                                  const ProjectedAttentionWeights& weights, const Tensor& query,
                                  const KVCache& cache, int64_t query_offset,
                                  bool use_causal_mask) {
  // (B, T, Dq) -> (B, T, N, H)
  const Tensor q = project(weights, &PackedProjections::query, query, 1, *weights.query_kernel,
                           weights.query_bias);
  ops::SdpaOptions options;
  options.scale = settings.scale;
  options.is_causal = use_causal_mask;
  options.sliding_window = settings.sliding_window;
  options.query_offset = query_offset;
  Tensor heads =
      cache.dtype() == CacheDtype::kFloat32
          ? ops::scaled_dot_product_attention(q, cache.keys(), cache.values(), options).output
          : ops::scaled_dot_product_attention(q, cache.half_keys(), cache.half_values(), options)
                .output;
  if (weights.gate_kernel != nullptr) apply_gate(weights, query, heads);
  return output_projection(weights, heads);
}

AttentionForward projected_attention_forward(
    const Layer& layer, ErrorSource source, const ProjectedAttentionSettings& settings,
    const ProjectedAttentionWeights& weights, const Tensor& query, const Tensor& value,
    const Tensor& key, const ProjectedAttentionCallArgs& args, const SeedGenerator& seeds) {
  auto saved = std::make_shared<ProjectedSaved>(
      run(source, settings, weights, query, value, key, args, seeds, true));
  saved->layer = &layer;
  AttentionForward forward;
  forward.result = saved->result;
  forward.saved = std::move(saved);
  return forward;
}

AttentionInputGradients projected_attention_backward(const Layer& layer, ErrorSource source,
                                                     const ProjectedAttentionWeights& weights,
                                                     const AttentionForward& forward,
                                                     const Tensor& d_output,
                                                     const ProjectedAttentionGradients& grads) {
  const auto* saved = dynamic_cast<const ProjectedSaved*>(forward.saved.get());
  if (saved == nullptr || saved->layer != &layer) {
    throw_value_error(
        source, "`forward` was not made by this layer's forward()",
        "the AttentionForward this layer's forward() returned",
        std::string("forward from ") + (forward.saved ? "another layer" : "no forward() call"));
  }
  if (d_output.shape() != saved->result.output.shape()) {
    throw_value_error(source, "`d_output` must have the output's shape",
                      "shape " + shape_to_string(saved->result.output.shape()),
                      "d_output.shape=" + shape_to_string(d_output.shape()));
  }

  // output = gated_heads @ attention_output/kernel + bias
  Tensor d_heads = ops::einsum_dense_backward(saved->gated_heads, 2, *weights.output_kernel,
                                              d_output, *grads.output_kernel, grads.output_bias);
  std::optional<Tensor> d_query_from_gate;
  if (saved->gate) {
    // gated_heads = heads * g, g = sigmoid(query @ gate/kernel + gate/bias):
    //   d_heads = d_gated * g;  d_pre = d_gated * heads * g * (1 - g)
    Tensor d_gate_pre(d_heads.shape());
    const float* g = saved->gate->data();
    const float* h = saved->heads.data();
    float* dh = d_heads.data();
    float* dp = d_gate_pre.data();
    for (int64_t i = 0; i < d_heads.size(); ++i) {
      dp[i] = dh[i] * h[i] * g[i] * (1.0f - g[i]);
      dh[i] *= g[i];
    }
    d_query_from_gate = ops::einsum_dense_backward(saved->query, 1, *weights.gate_kernel,
                                                   d_gate_pre, *grads.gate_kernel, grads.gate_bias);
  }

  // heads = from_frame(attention(q_frame, k_frame, v_frame))
  const Tensor d_attended =
      to_frame(d_heads, saved->axes, saved->layout.batch, saved->layout.query_len);
  const ops::SdpaGradients<float> d_frames = ops::scaled_dot_product_attention_backward(
      saved->q_frame, saved->k_frame, saved->v_frame, saved->attended, d_attended, saved->options);
  const Tensor d_q = from_frame(d_frames.query, saved->q.shape(), saved->axes);
  const Tensor d_k = from_frame(d_frames.key, saved->k.shape(), saved->axes);
  const Tensor d_v = from_frame(d_frames.value, saved->v.shape(), saved->axes);

  // q, k, v = query, key, value @ their kernels + biases
  AttentionInputGradients result;
  result.query = ops::einsum_dense_backward(saved->query, 1, *weights.query_kernel, d_q,
                                            *grads.query_kernel, grads.query_bias);
  if (d_query_from_gate) add_into(result.query, *d_query_from_gate);
  result.value = ops::einsum_dense_backward(saved->value, 1, *weights.value_kernel, d_v,
                                            *grads.value_kernel, grads.value_bias);
  Tensor d_key = ops::einsum_dense_backward(saved->key, 1, *weights.key_kernel, d_k,
                                            *grads.key_kernel, grads.key_bias);
  if (saved->has_key) {
    result.key = std::move(d_key);
  } else {
    add_into(result.value, d_key);
  }
  return result;
}

ProjectedAttentionWeights projected_weights(const std::vector<Variable>& weights) {
  ProjectedAttentionWeights slots;
  for (const Variable& w : weights) *slot(slots, w.name) = &w.value;
  return slots;
}

ProjectedAttentionGradients projected_gradients(const std::vector<Variable>& weights,
                                                std::vector<Tensor>& gradients) {
  ProjectedAttentionGradients slots;
  for (size_t i = 0; i < weights.size(); ++i) *slot(slots, weights[i].name) = &gradients[i];
  return slots;
}

}  // namespace kattn::detail
