// Validates the attention problem, lays out the kernel parameters and runs the kernel of the
// active instruction set. No arithmetic here.
#include "kattn/ops/sdpa.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "kattn/core/context.hpp"
#include "kattn/core/error.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/flash/sdpa_decode.hpp"
#include "kernels/flash/sdpa_flash.hpp"
#include "kernels/flash/sdpa_flash_backward.hpp"
#include "kernels/reference/sdpa.hpp"
#include "threads/parallel_for.hpp"
#include "threads/thread_buffer.hpp"

namespace kattn::ops {

namespace {

constexpr ErrorSource kOp{"scaled_dot_product_attention", ""};

void check_rank4(const Shape& shape, const char* name, const char* layout) {
  if (shape.size() != 4) {
    throw_value_error(kOp, std::string("`") + name + "` must have rank 4",
                      std::string("a tensor of shape ") + layout,
                      std::string(name) + ".shape=" + shape_to_string(shape));
  }
}

template <typename Real>
void copy_strides(const BasicTensor<Real>& tensor, int64_t (&strides)[4]) {
  for (int64_t axis = 0; axis < 4; ++axis) strides[axis] = tensor.stride(axis);
}

std::string shapes(const Shape& a, const char* a_name, const Shape& b, const char* b_name) {
  return std::string(a_name) + ".shape=" + shape_to_string(a) + ", " + b_name +
         ".shape=" + shape_to_string(b);
}

template <typename Real>
std::string describe(const kernels::SdpaParams<Real>& p) {
  std::string text = "B=" + std::to_string(p.batch) + " T=" + std::to_string(p.query_len) +
                     " S=" + std::to_string(p.key_len) + " N=" + std::to_string(p.num_heads) +
                     " K=" + std::to_string(p.num_kv_heads) + " H=" + std::to_string(p.head_dim) +
                     (std::is_same_v<Real, float> ? " float32" : " float64");
  if (p.scores != nullptr) text += ", scores";
  return text;
}

void run_decode(const kernels::SdpaParams<float>& params, kernels::Isa isa, int64_t threads) {
  auto* item = &kernels::sdpa_decode_item_portable;
#ifdef KATTN_HAVE_AVX2_KERNELS
  if (isa == kernels::Isa::kAvx2) item = &kernels::sdpa_decode_item_avx2;
#endif
#ifdef KATTN_HAVE_AVX512_KERNELS
  if (isa == kernels::Isa::kAvx512) item = &kernels::sdpa_decode_item_avx512;
#endif
  const int64_t rows = kernels::sdpa_decode_rows(params);
  float* partials = detail::thread_buffer<detail::Buffer::kPartials>(
      rows * kernels::sdpa_decode_chunks(params) * kernels::sdpa_decode_partial_size(params));
  const int64_t floats = kernels::sdpa_decode_workspace_size(params);
  detail::parallel_for(kernels::sdpa_decode_items(params), threads, [&](int64_t i) {
    item(params, i, detail::thread_buffer<detail::Buffer::kWorkspace>(floats), partials);
  });
  detail::parallel_for(rows, threads,
                       [&](int64_t row) { kernels::sdpa_decode_combine(params, row, partials); });
}

template <typename Real>
void run_kernel(const kernels::SdpaParams<Real>& params, int64_t threads) {
  // With no keys (S = 0) Keras's softmax over the empty axis weighs nothing: the output stays
  // zeros.
  if (params.key_len == 0) return;
  const kernels::Isa isa = kernels::active_isa();
  if constexpr (std::is_same_v<Real, float>) {
    if (isa != kernels::Isa::kReference) {
      const bool decode = kernels::sdpa_decode_applies(params);
      kernels::report_kernel(
          decode ? "scaled_dot_product_attention (decode)" : "scaled_dot_product_attention", isa,
          threads, [&] { return describe(params); });
      if (decode) {
        run_decode(params, isa, threads);
      } else {
        kernels::sdpa_flash_run(params, kernels::FlashScoring{}, isa, threads);
      }
      return;
    }
  }
  kernels::report_kernel("scaled_dot_product_attention", kernels::Isa::kReference, 1,
                         [&] { return describe(params); });
  std::vector<Real> workspace(static_cast<size_t>(kernels::sdpa_reference_workspace_size(params)) +
                              1);
  kernels::sdpa_forward_reference(params, workspace.data());
}

// The fused backward recomputes the probabilities from each row's log-sum-exp: taken from the
// forward result when it has one, else from a forward pass run again for it (its output
// dropped). Double and KATTN_ISA=reference run the reference backward, which needs neither.
template <typename Real>
void run_backward_kernel(const kernels::SdpaParams<Real>& params,
                         const kernels::SdpaGradParams<Real>& grads,
                         const SdpaResult<Real>& forward, int64_t threads) {
  if (params.key_len == 0) return;  // an output of zeros has zero gradients
  const kernels::Isa isa = kernels::active_isa();
  if constexpr (std::is_same_v<Real, float>) {
    if (isa != kernels::Isa::kReference) {
      kernels::SdpaForwardSaved saved;
      saved.output = forward.output.data();
      copy_strides(forward.output, saved.output_strides);
      Tensor logsumexp;
      if (forward.logsumexp) {
        logsumexp =
            forward.logsumexp->is_contiguous() ? *forward.logsumexp : forward.logsumexp->clone();
      } else {
        logsumexp = Tensor(Shape{params.batch, params.num_heads, params.query_len});
        Tensor output(forward.output.shape());
        kernels::SdpaParams<float> again = params;
        again.output = output.data();
        copy_strides(output, again.output_strides);
        again.scores = nullptr;
        again.logsumexp = logsumexp.data();
        run_kernel(again, threads);
      }
      saved.logsumexp = logsumexp.data();
      kernels::report_kernel("scaled_dot_product_attention_backward", isa, threads, [&] {
        return describe(params) + (forward.logsumexp ? "" : ", logsumexp recomputed");
      });
      kernels::sdpa_flash_backward_run(params, kernels::FlashScoring{}, saved, grads, {}, isa,
                                       threads);
      return;
    }
  }
  kernels::report_kernel("scaled_dot_product_attention_backward", kernels::Isa::kReference, 1,
                         [&] { return describe(params); });
  std::vector<Real> workspace(
      static_cast<size_t>(kernels::sdpa_backward_reference_workspace_size(params)) + 1);
  kernels::sdpa_backward_reference(params, grads, workspace.data());
}

// Validates the problem (ValueError naming the argument) and lays out the query and the
// options; the caller sets the keys, values and outputs.
template <typename Real>
kernels::SdpaParams<Real> checked_params(const BasicTensor<Real>& query, const Shape& key,
                                         const Shape& value, const SdpaOptions& options) {
  check_rank4(query.shape(), "query", "(B, T, N, H)");
  check_rank4(key, "key", "(B, S, K, H)");
  check_rank4(value, "value", "(B, S, K, Hv)");
  const int64_t B = query.dim(0), T = query.dim(1), N = query.dim(2), H = query.dim(3);
  const int64_t S = key[1], K = key[2], Hv = value[3];
  if (key[0] != B || key[3] != H) {
    throw_value_error(kOp, "`query` and `key` must agree on the batch and head dimensions",
                      "query (B, T, N, H) and key (B, S, K, H)",
                      shapes(query.shape(), "query", key, "key"));
  }
  if (value[0] != B || value[1] != S || value[2] != K) {
    throw_value_error(kOp, "`key` and `value` must agree on every axis but the last",
                      "key (B, S, K, H) and value (B, S, K, Hv)",
                      shapes(key, "key", value, "value"));
  }
  if (K <= 0 || N % K != 0) {
    throw_value_error(kOp, "the query heads must be a multiple of the key/value heads",
                      "N % K == 0 with K > 0",
                      "N=" + std::to_string(N) + ", K=" + std::to_string(K));
  }
  if (!std::isfinite(options.scale)) {
    throw_value_error(kOp, "invalid `scale`", "a finite number",
                      "scale=" + std::to_string(options.scale));
  }
  if (!(options.dropout_rate >= 0.0 && options.dropout_rate < 1.0)) {
    throw_value_error(kOp, "invalid `dropout_rate`", "a number in [0, 1)",
                      "dropout_rate=" + std::to_string(options.dropout_rate));
  }
  if (options.sliding_window < 0) {
    throw_value_error(kOp, "invalid `sliding_window`", "0 (none) or a positive integer",
                      "sliding_window=" + std::to_string(options.sliding_window));
  }
  if (options.query_offset < 0) {
    throw_value_error(kOp, "invalid `query_offset`", "0 or a positive integer",
                      "query_offset=" + std::to_string(options.query_offset));
  }
  if (options.num_threads < 0) {
    throw_value_error(kOp, "invalid `num_threads`", "0 (the context's count) or a positive integer",
                      "num_threads=" + std::to_string(options.num_threads));
  }
  const Shape full{B, N, T, S};
  if (options.mask) {
    const Shape& mask_shape = options.mask->shape();
    bool ok = mask_shape.size() == 4;
    for (size_t axis = 0; ok && axis < 4; ++axis) {
      ok = mask_shape[axis] == 1 || mask_shape[axis] == full[axis];
    }
    if (!ok) {
      throw_value_error(
          kOp, "`mask` does not broadcast to the attention probabilities",
          "a rank-4 mask whose axes are 1 or " + shape_to_string(full) + " (B, N, T, S)",
          "mask.shape=" + shape_to_string(mask_shape));
    }
  }

  if (options.query_mask && options.query_mask->shape() != Shape{B, T}) {
    throw_value_error(kOp, "`query_mask` must have one entry per query",
                      "shape " + shape_to_string(Shape{B, T}) + " (B, T)",
                      "query_mask.shape=" + shape_to_string(options.query_mask->shape()));
  }

  kernels::SdpaParams<Real> params;
  params.batch = B;
  params.query_len = T;
  params.key_len = S;
  params.num_heads = N;
  params.num_kv_heads = K;
  params.head_dim = H;
  params.value_dim = Hv;
  params.query = query.data();
  copy_strides(query, params.query_strides);
  if (options.mask) {
    params.mask = options.mask->data();
    for (int64_t axis = 0; axis < 4; ++axis) {
      params.mask_strides[axis] = options.mask->dim(axis) == 1 ? 0 : options.mask->stride(axis);
    }
  }
  params.scale = static_cast<Real>(options.scale);
  params.is_causal = options.is_causal;
  params.sliding_window = options.sliding_window;
  params.query_offset = options.query_offset;
  params.fully_masked_rows = options.fully_masked_rows;
  params.dropout_rate = options.dropout_rate;
  params.dropout_key = options.dropout_key;
  return params;
}

// checked_params for keys and values in tensors of Real.
template <typename Real>
kernels::SdpaParams<Real> checked_params(const BasicTensor<Real>& query,
                                         const BasicTensor<Real>& key,
                                         const BasicTensor<Real>& value,
                                         const SdpaOptions& options) {
  kernels::SdpaParams<Real> params = checked_params(query, key.shape(), value.shape(), options);
  params.key = key.data();
  copy_strides(key, params.key_strides);
  params.value = value.data();
  copy_strides(value, params.value_strides);
  return params;
}

// Allocates the outputs options ask for into params and runs the kernel.
template <typename Real>
SdpaResult<Real> run_forward(kernels::SdpaParams<Real>& params, const SdpaOptions& options) {
  SdpaResult<Real> result{
      BasicTensor<Real>(Shape{params.batch, params.query_len, params.num_heads, params.value_dim}),
      std::nullopt, std::nullopt};
  if (options.return_scores) {
    result.scores =
        BasicTensor<Real>(Shape{params.batch, params.num_heads, params.query_len, params.key_len});
  }
  if (options.return_logsumexp) {
    result.logsumexp = BasicTensor<Real>(Shape{params.batch, params.num_heads, params.query_len});
  }
  params.output = result.output.data();
  copy_strides(result.output, params.output_strides);
  params.scores = result.scores ? result.scores->data() : nullptr;
  params.logsumexp = result.logsumexp ? result.logsumexp->data() : nullptr;

  run_kernel(params, options.num_threads == 0 ? num_threads() : options.num_threads);
  return result;
}

// Calls visit(b, i, n) for every head n of every query row i of batch b that query_mask masks.
template <typename Real, typename Visit>
void for_each_masked_row(const Mask& query_mask, const kernels::SdpaParams<Real>& p,
                         Visit&& visit) {
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t i = 0; i < p.query_len; ++i) {
      for (int64_t n = 0; !query_mask(b, i) && n < p.num_heads; ++n) visit(b, i, n);
    }
  }
}

// The average of every value of batch b, (K, Hv) row-major: what a fully masked row gives
// under kUniform.
template <typename Real>
std::vector<Real> value_means(const kernels::SdpaParams<Real>& p, const BasicTensor<Real>& value,
                              int64_t b) {
  std::vector<Real> means(static_cast<size_t>(p.num_kv_heads * p.value_dim));
  for (int64_t kv = 0; kv < p.num_kv_heads; ++kv) {
    for (int64_t h = 0; h < p.value_dim; ++h) {
      Real sum = 0;
      for (int64_t j = 0; j < p.key_len; ++j) sum += value(b, j, kv, h);
      means[static_cast<size_t>(kv * p.value_dim + h)] = sum / static_cast<Real>(p.key_len);
    }
  }
  return means;
}

// Rows of masked queries are fully masked rows, made so after the kernel ran them unmasked:
// kZero gives zero probabilities and a zero output, kUniform the uniform average of every value.
template <typename Real>
void mask_query_rows(const Mask& query_mask, FullyMaskedRows rule,
                     const kernels::SdpaParams<Real>& p, const BasicTensor<Real>& value,
                     SdpaResult<Real>& result) {
  const int64_t S = p.key_len, group = p.num_heads / p.num_kv_heads;
  const bool uniform = rule == FullyMaskedRows::kUniform && S > 0;
  std::vector<Real> means;
  int64_t means_of = -1;  // the batch `means` holds
  for_each_masked_row(query_mask, p, [&](int64_t b, int64_t i, int64_t n) {
    if (uniform && means_of != b) {
      means = value_means(p, value, b);
      means_of = b;
    }
    const int64_t kv = n / group;
    for (int64_t h = 0; h < p.value_dim; ++h) {
      result.output(b, i, n, h) =
          uniform ? means[static_cast<size_t>(kv * p.value_dim + h)] : Real(0);
    }
    for (int64_t j = 0; result.scores && j < S; ++j) {
      (*result.scores)(b, n, i, j) = uniform ? Real(1) / static_cast<Real>(S) : Real(0);
    }
  });
}

}  // namespace

template <typename Real>
SdpaResult<Real> scaled_dot_product_attention(const BasicTensor<Real>& query,
                                              const BasicTensor<Real>& key,
                                              const BasicTensor<Real>& value,
                                              const SdpaOptions& options) {
  kernels::SdpaParams<Real> params = checked_params(query, key, value, options);
  SdpaResult<Real> result = run_forward(params, options);
  if (options.query_mask) {
    mask_query_rows(*options.query_mask, options.fully_masked_rows, params, value, result);
  }
  return result;
}

Tensor HalfSequence::to_float() const {
  check_rank4(shape, "HalfSequence", "(B, S, K, H)");
  Tensor result(shape);
  float* out = result.data();
  for (int64_t b = 0; b < shape[0]; ++b) {
    for (int64_t s = 0; s < shape[1]; ++s) {
      for (int64_t k = 0; k < shape[2]; ++k) {
        const uint16_t* row = data + b * strides[0] + s * strides[1] + k * strides[2];
        for (int64_t h = 0; h < shape[3]; ++h) *out++ = half_to_float(row[h * strides[3]], format);
      }
    }
  }
  return result;
}

SdpaResult<float> scaled_dot_product_attention(const Tensor& query, const HalfSequence& key,
                                               const HalfSequence& value,
                                               const SdpaOptions& options) {
  kernels::SdpaParams<float> params = checked_params(query, key.shape, value.shape, options);
  if (key.format != value.format) {
    throw_value_error(kOp, "`key` and `value` must be stored in the same 16-bit format",
                      std::string("both ") + half_format_name(key.format),
                      std::string("key ") + half_format_name(key.format) + ", value " +
                          half_format_name(value.format));
  }
  params.key_half = key.data;
  std::copy(key.strides.begin(), key.strides.end(), params.key_strides);
  params.value_half = value.data;
  std::copy(value.strides.begin(), value.strides.end(), params.value_strides);
  params.half_format = key.format;
  // params.scores is still null: run_forward sets it.
  const bool direct = kernels::active_isa() != kernels::Isa::kReference && !options.return_scores &&
                      !options.query_mask && kernels::sdpa_decode_applies(params);
  if (!direct) {
    return scaled_dot_product_attention(query, key.to_float(), value.to_float(), options);
  }
  return run_forward(params, options);
}

template <typename Real>
SdpaGradients<Real> scaled_dot_product_attention_backward(const BasicTensor<Real>& query,
                                                          const BasicTensor<Real>& key,
                                                          const BasicTensor<Real>& value,
                                                          const SdpaResult<Real>& forward,
                                                          const BasicTensor<Real>& d_output,
                                                          const SdpaOptions& options) {
  kernels::SdpaParams<Real> params = checked_params(query, key, value, options);
  const Shape output_shape{params.batch, params.query_len, params.num_heads, params.value_dim};
  if (d_output.shape() != output_shape || forward.output.shape() != output_shape) {
    throw_value_error(kOp, "`d_output` and the forward output must have the output's shape",
                      shape_to_string(output_shape) + " (B, T, N, Hv)",
                      "d_output.shape=" + shape_to_string(d_output.shape()) +
                          ", output.shape=" + shape_to_string(forward.output.shape()));
  }
  const Shape rows_shape{params.batch, params.num_heads, params.query_len};
  if (forward.logsumexp && forward.logsumexp->shape() != rows_shape) {
    throw_value_error(kOp, "the forward logsumexp must have one entry per query row",
                      shape_to_string(rows_shape) + " (B, N, T)",
                      "logsumexp.shape=" + shape_to_string(forward.logsumexp->shape()));
  }
  SdpaGradients<Real> grads{BasicTensor<Real>(query.shape()), BasicTensor<Real>(key.shape()),
                            BasicTensor<Real>(value.shape())};
  // Masked query rows are constant: zeros, or (kUniform) the average of the values, which
  // passes its gradient to every value equally. The kernel sees their gradients as zeros.
  BasicTensor<Real> d_attended = d_output;
  if (options.query_mask) {
    d_attended = d_output.clone();
    for_each_masked_row(*options.query_mask, params, [&](int64_t b, int64_t i, int64_t n) {
      for (int64_t h = 0; h < params.value_dim; ++h) d_attended(b, i, n, h) = 0;
    });
  }
  kernels::SdpaGradParams<Real> grad_params;
  grad_params.d_output = d_attended.data();
  copy_strides(d_attended, grad_params.d_output_strides);
  grad_params.d_query = grads.query.data();
  grad_params.d_key = grads.key.data();
  grad_params.d_value = grads.value.data();

  run_backward_kernel(params, grad_params, forward,
                      options.num_threads == 0 ? num_threads() : options.num_threads);
  if (options.query_mask && options.fully_masked_rows == FullyMaskedRows::kUniform &&
      params.key_len > 0) {
    // Each batch's masked rows share (K, Hv) sums of their gradients, given once to every value.
    const int64_t S = params.key_len, K = params.num_kv_heads, Hv = params.value_dim;
    const int64_t group = params.num_heads / K;
    std::vector<Real> shares(static_cast<size_t>(params.batch * K * Hv));
    for_each_masked_row(*options.query_mask, params, [&](int64_t b, int64_t i, int64_t n) {
      for (int64_t h = 0; h < Hv; ++h) {
        shares[static_cast<size_t>((b * K + n / group) * Hv + h)] +=
            d_output(b, i, n, h) / static_cast<Real>(S);
      }
    });
    for (int64_t b = 0; b < params.batch; ++b) {
      for (int64_t j = 0; j < S; ++j) {
        for (int64_t kv = 0; kv < K; ++kv) {
          for (int64_t h = 0; h < Hv; ++h) {
            grads.value(b, j, kv, h) += shares[static_cast<size_t>((b * K + kv) * Hv + h)];
          }
        }
      }
    }
  }
  return grads;
}

template SdpaResult<float> scaled_dot_product_attention<float>(const Tensor&, const Tensor&,
                                                               const Tensor&, const SdpaOptions&);
template SdpaResult<double> scaled_dot_product_attention<double>(const TensorF64&, const TensorF64&,
                                                                 const TensorF64&,
                                                                 const SdpaOptions&);

template SdpaGradients<float> scaled_dot_product_attention_backward<float>(
    const Tensor&, const Tensor&, const Tensor&, const SdpaResult<float>&, const Tensor&,
    const SdpaOptions&);
template SdpaGradients<double> scaled_dot_product_attention_backward<double>(
    const TensorF64&, const TensorF64&, const TensorF64&, const SdpaResult<double>&,
    const TensorF64&, const SdpaOptions&);

}  // namespace kattn::ops
