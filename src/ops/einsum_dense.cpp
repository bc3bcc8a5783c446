#include "ops/einsum_dense.hpp"

#include <cblas.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include "kattn/core/context.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/gemm/packed_gemm.hpp"

namespace kattn::ops {

class PackedKernel {
 public:
  explicit PackedKernel(kernels::PackedMatrix packed) : matrix(std::move(packed)) {}
  kernels::PackedMatrix matrix;
};

std::shared_ptr<const PackedKernel> pack_kernel(const Tensor& kernel, int64_t contracted_axes) {
  if (!kernels::packed_gemm_available()) return nullptr;
  const Tensor dense = kernel.contiguous();
  int64_t rows = 1;
  for (int64_t axis = 0; axis < contracted_axes; ++axis) rows *= dense.dim(axis);
  return std::make_shared<const PackedKernel>(
      kernels::PackedMatrix(dense.data(), rows, rows == 0 ? 0 : dense.size() / rows));
}

Tensor einsum_dense(const Tensor& x, int64_t contracted_axes, const Tensor& kernel,
                    const Tensor* bias, const PackedKernel* packed) {
  const Shape& x_shape = x.shape();
  const int64_t lead_rank = x.rank() - contracted_axes;
  Shape out_shape(x_shape.begin(), x_shape.begin() + lead_rank);
  int64_t inner = 1;  // c1 * ... * ck
  for (int64_t axis = lead_rank; axis < x.rank(); ++axis)
    inner *= x_shape[static_cast<size_t>(axis)];
  int64_t outer = 1;  // o1 * ... * om
  for (int64_t axis = contracted_axes; axis < kernel.rank(); ++axis) {
    out_shape.push_back(kernel.dim(axis));
    outer *= kernel.dim(axis);
  }
  const int64_t rows = inner == 0 ? 0 : x.size() / inner;

  Tensor out(out_shape);
  const Tensor a = x.contiguous();  // (rows, inner)
  if (packed != nullptr && kernels::packed_gemm_available()) {
    const Tensor b = bias != nullptr ? bias->contiguous() : Tensor();
    kernels::PackedGemmParams params;
    params.m = rows;
    params.a = a.data();
    params.lda = inner;
    params.b = &packed->matrix;
    params.bias = bias != nullptr ? b.data() : nullptr;
    params.c = out.data();
    params.ldc = outer;
    kernels::packed_gemm_run(params, num_threads());
    return out;
  }
  const Tensor w = kernel.contiguous();  // (inner, outer)
  // OpenBLAS takes 32-bit sizes: the rows go in chunks that fit. The kernel's two sides are
  // assumed to fit (a side of 2^31 would be a kernel of at least 8 GiB).
  constexpr int64_t kMaxRows = std::numeric_limits<blasint>::max();
  for (int64_t first = 0; outer > 0 && inner > 0 && first < rows; first += kMaxRows) {
    const int64_t count = std::min(kMaxRows, rows - first);
    // out (count, outer) = a (count, inner) @ w (inner, outer)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(count),
                static_cast<blasint>(outer), static_cast<blasint>(inner), 1.0f,
                a.data() + first * inner, static_cast<blasint>(inner), w.data(),
                static_cast<blasint>(outer), 0.0f, out.data() + first * outer,
                static_cast<blasint>(outer));
  }
  if (bias != nullptr) {
    // Added after the product, as EinsumDense adds its bias to the einsum's result.
    const Tensor b = bias->contiguous();  // (outer,)
    float* o = out.data();
    const float* bv = b.data();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < outer; ++c) o[r * outer + c] += bv[c];
    }
  }
  return out;
}

Tensor einsum_dense_backward(const Tensor& x, int64_t contracted_axes, const Tensor& kernel,
                             const Tensor& d_out, Tensor& d_kernel, Tensor* d_bias) {
  int64_t inner = 1;  // c1 * ... * ck
  for (int64_t axis = x.rank() - contracted_axes; axis < x.rank(); ++axis) inner *= x.dim(axis);
  const int64_t outer = inner == 0 ? kernel.size() : kernel.size() / inner;  // o1 * ... * om
  const int64_t rows = inner == 0 ? 0 : x.size() / inner;

  Tensor d_x(x.shape());
  const Tensor a = x.contiguous();       // (rows, inner)
  const Tensor dy = d_out.contiguous();  // (rows, outer)
  const Tensor w = kernel.contiguous();  // (inner, outer)
  float* dw = d_kernel.data();           // (inner, outer), accumulated
  constexpr int64_t kMaxRows = std::numeric_limits<blasint>::max();
  for (int64_t first = 0; outer > 0 && inner > 0 && first < rows; first += kMaxRows) {
    const auto count = static_cast<blasint>(std::min(kMaxRows, rows - first));
    const auto m = static_cast<blasint>(inner), n = static_cast<blasint>(outer);
    // d_x (count, inner) = dy (count, outer) @ w^T (outer, inner)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, count, m, n, 1.0f,
                dy.data() + first * outer, n, w.data(), n, 0.0f, d_x.data() + first * inner, m);
    // dw (inner, outer) += a^T (inner, count) @ dy (count, outer)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, count, 1.0f,
                a.data() + first * inner, m, dy.data() + first * outer, n, 1.0f, dw, n);
  }
  if (d_bias != nullptr) {
    float* db = d_bias->data();  // (outer,), accumulated
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < outer; ++c) db[c] += dy.data()[r * outer + c];
    }
  }
  return d_x;
}

}  // namespace kattn::ops
