// keras.layers.GroupNormalization, exact to Keras 3.16 (numpy backend arithmetic).
//
//   inputs (B, ..., C at `axis`, ...), C split into `groups` runs of C / groups channels
//   per batch row and group: mean and variance (E[x^2] - E[x]^2) over the group's channels and
//   every other non-batch axis; y = x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps)
//   groups = -1 (or C) is instance normalization; gamma, beta (C,)
//
// Masks are not read; the output keeps the input's Keras mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"
#include "kattn/layers/unary_layer.hpp"

namespace kattn {

class GroupNormalization : public UnaryLayer {
 public:
  struct Args {
    int64_t groups = 32;  // > 0, or -1 for one group per channel
    int64_t axis = -1;
    double epsilon = 1e-3;
    bool center = true;
    bool scale = true;
    WeightArgs beta = {};   // zeros by default
    WeightArgs gamma = {};  // ones by default
    std::string name = "";  // empty: Keras's auto name (see LayerArgs)
    bool trainable = true;
  };

  GroupNormalization();
  // ValueError (Keras's wording) for groups that are neither positive nor -1.
  explicit GroupNormalization(Args args);
  static std::unique_ptr<GroupNormalization> from_config(const Config& config);

  // Creates gamma and beta; ValueError (Keras's wording) for an unknown channel count, more
  // groups than channels, or channels that do not split evenly. groups = -1 becomes C, as in
  // Keras (and in the config written after).
  void build(const Shape& input_shape) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Tensor call(const Tensor& inputs) const override;
  LayerForward forward(const Tensor& inputs) const override;
  // Per group of N elements: d x = r / N (N dz - sum(dz) - xhat sum(dz xhat)), dz = dy gamma;
  // d gamma += sum(dy xhat), d beta += sum(dy) per channel.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const override;

  int64_t groups() const { return groups_; }
  Config get_config() const override;

 private:
  struct Groups;
  int64_t resolved_axis(int64_t rank) const;
  void build_weights(const Shape& input_shape);
  Groups grouping(const Tensor& inputs) const;

  int64_t groups_;
  int64_t axis_;
  double epsilon_;
  bool center_;
  bool scale_;
  WeightArgs beta_;
  WeightArgs gamma_;
};

}  // namespace kattn
