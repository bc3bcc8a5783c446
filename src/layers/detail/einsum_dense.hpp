// The projections of MultiHeadAttention and GroupedQueryAttention: Keras's EinsumDense with the
// equations its _build_proj_equation writes, i.e. a dense layer over the trailing axes.
#pragma once

#include <cstdint>

#include "kattn/tensor.hpp"
#include "kernels/gemm/packed_gemm.hpp"

namespace kattn::detail {

// x (..., c1, ..., ck) contracted with kernel (c1, ..., ck, o1, ..., om) over the k =
// `contracted_axes` trailing axes of x, plus bias (o1, ..., om) when not null:
//   out (..., o1, ..., om) = einsum(x, kernel) + bias
// e.g. query (B, T, D) x kernel (D, N, H) -> (B, T, N, H); heads (B, T, N, Hv) x kernel
// (N, Hv, D) -> (B, T, D). Shapes are checked by the caller.
// With `packed` (kernel packed by kernels::PackedMatrix) and the AVX2 kernels active, the
// product runs the packed kernel on kattn::num_threads() threads; otherwise OpenBLAS.
Tensor einsum_dense(const Tensor& x, int64_t contracted_axes, const Tensor& kernel,
                    const Tensor* bias, const kernels::PackedMatrix* packed = nullptr);

}  // namespace kattn::detail
