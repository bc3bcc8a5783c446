// The recurrent loop on the packed kernels: the recurrent kernel packed once per set of weights,
// each step's recurrent product on the packed product's item kernel and the gates vectorized
// (kernels/recurrent/recurrent_gates.hpp), the batch rows split across threads (rows are
// independent: each thread runs every step of its own rows). The same loop, masks and outputs
// as ops::recurrent's plain one, which it is tested against.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "kattn/ops/recurrent.hpp"
#include "kernels/gemm/packed_gemm.hpp"
#include "ops/einsum_dense.hpp"

namespace kattn::ops {

class PackedRecurrentWeights {
 public:
  PackedRecurrentWeights(std::shared_ptr<const PackedKernel> kernel,
                         kernels::PackedMatrix recurrent_kernel)
      : kernel_(std::move(kernel)), recurrent_kernel_(std::move(recurrent_kernel)) {}
  const PackedKernel* kernel() const { return kernel_.get(); }
  const kernels::PackedMatrix& recurrent_kernel() const { return recurrent_kernel_; }

 private:
  std::shared_ptr<const PackedKernel> kernel_;
  kernels::PackedMatrix recurrent_kernel_;
};

// Whether the packed loop computes `spec`: LSTM and GRU (reset_after) with tanh and sigmoid,
// SimpleRNN with tanh, on an instruction set with the kernels.
bool packed_loop_supported(const RecurrentSpec& spec);

// ops::recurrent on the packed kernels; only when packed_loop_supported(spec).
RecurrentResult recurrent_packed(const Tensor& sequences, const RecurrentWeights& weights,
                                 const RecurrentSpec& spec, const Mask* mask,
                                 const std::vector<Tensor>& initial_state,
                                 const PackedRecurrentWeights& packed);

}  // namespace kattn::ops
