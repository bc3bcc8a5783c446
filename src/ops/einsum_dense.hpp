// The projection op: Keras's EinsumDense with the equations MultiHeadAttention's
// _build_proj_equation writes, i.e. a dense layer over the trailing axes (Dense and the
// attention projections). It owns the choice of kernel: a kernel packed once (pack_kernel) runs
// on the packed AVX2 kernels, everything else on OpenBLAS.
#pragma once

#include <cstdint>
#include <memory>

#include "kattn/core/tensor.hpp"

namespace kattn::ops {

// A kernel packed for the active instruction set's projection kernels.
class PackedKernel;

// `kernel` (c1, ..., ck, o1, ..., om) packed as the (c1 * ... * ck, o1 * ... * om) matrix the
// packed kernels read, or null when the active instruction set runs projections on OpenBLAS.
// Made once per set of weights (Layer::derived_from_weights).
std::shared_ptr<const PackedKernel> pack_kernel(const Tensor& kernel, int64_t contracted_axes);

// x (..., c1, ..., ck) contracted with kernel (c1, ..., ck, o1, ..., om) over the k =
// `contracted_axes` trailing axes of x, plus bias (o1, ..., om) when not null:
//   out (..., o1, ..., om) = einsum(x, kernel) + bias
// e.g. query (B, T, D) x kernel (D, N, H) -> (B, T, N, H); heads (B, T, N, Hv) x kernel
// (N, Hv, D) -> (B, T, D). Shapes are checked by the caller.
// With `packed` (pack_kernel of `kernel`) and the AVX2 kernels active, the product runs the
// packed kernel on kattn::num_threads() threads; otherwise OpenBLAS.
Tensor einsum_dense(const Tensor& x, int64_t contracted_axes, const Tensor& kernel,
                    const Tensor* bias, const PackedKernel* packed = nullptr);

// The backward of einsum_dense for d_out (..., o1, ..., om): returns d_x (..., c1, ..., ck) and
// adds X^T d_out into d_kernel (kernel's shape) and, when not null, the sum of d_out over the
// leading axes into d_bias (o1, ..., om). d_kernel and d_bias are contiguous (gradient
// buffers are made so). OpenBLAS; shapes are checked by the caller.
//   d_x = d_out @ kernel^T;  d_kernel += x^T @ d_out;  d_bias += sum over rows of d_out
Tensor einsum_dense_backward(const Tensor& x, int64_t contracted_axes, const Tensor& kernel,
                             const Tensor& d_out, Tensor& d_kernel, Tensor* d_bias);

}  // namespace kattn::ops
