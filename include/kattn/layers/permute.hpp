// keras.layers.Permute, exact to Keras 3.16.
//
//   inputs (B, d1, ..., dn) -> output (B, d[dims[0]], ..., d[dims[n-1]])
//
// dims are 1-based and leave the batch axis in place. Weightless; the output carries no Keras
// mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/reshaping_layer.hpp"

namespace kattn {

class Permute : public ReshapingLayer {
 public:
  struct Args {
    std::vector<int64_t> dims;  // a permutation of 1, ..., n; required
    std::string name = "";      // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  // ValueError unless dims is a permutation of 1, ..., len(dims).
  explicit Permute(Args args);
  static std::unique_ptr<Permute> from_config(const Config& config);

  // ValueError for inputs whose rank is not len(dims) + 1 (Keras's InputSpec).
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;

  const std::vector<int64_t>& dims() const { return dims_; }
  Config get_config() const override;

 protected:
  // d_output transposed back.
  Tensor gradient(const Tensor& d_output, const Shape& input_shape) const override;

 private:
  std::vector<int64_t> dims_;
  std::vector<int64_t> axes_;  // (0, *dims): the transpose's axes
};

}  // namespace kattn
