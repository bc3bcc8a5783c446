// The base of the layers that are identities at inference and perturb their input in training:
// Dropout (and SpatialDropout1D/2D/3D), GaussianNoise, GaussianDropout, AlphaDropout. Each
// training call draws a fresh key from the layer's SeedGenerator; the perturbation depends on
// the key and the element's index only. Exact to Keras's rules, not to its random numbers.
//
//   call(inputs, training): inference (or a layer that does not perturb: rate or stddev 0):
//   `inputs` itself; a graph node passes the very input value on, Keras mask included. In
//   training a new tensor that keeps the input's Keras mask.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/random.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/layers/layer_forward.hpp"

namespace kattn {

class NoiseLayer : public Layer {
 public:
  // No weights: built at construction, as in Keras, so build() is a no-op.
  void build(const Shape& /*input_shape*/) {}
  Shape compute_output_shape(const Shape& input_shape) const { return input_shape; }
  // Const and safe to call from several threads at once.
  Tensor call(const Tensor& inputs, bool training = false) const;
  // A training call: call() that also keeps the key it drew (the output is `inputs` itself
  // when call() returns it).
  LayerForward forward(const Tensor& inputs, bool training = false) const;
  // Backpropagates d_output (the inputs' shape) through the forward() call that gave `forward`
  // (a copy of d_output when it did not perturb). weight_gradients is zero_gradients(): empty.
  Tensor backward(const LayerForward& forward, const Tensor& d_output,
                  std::vector<Tensor>& weight_gradients) const;

  std::optional<int64_t> seed() const { return seed_generator_.seed(); }

  // The graph node, call(inputs, training).
  const std::vector<std::string>& call_parameters() const override;
  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override;
  std::vector<ValuePtr> call_node(const ValueArguments&, const RunContext&) const override;
  OperationForward forward_node(const ValueArguments&, const RunContext&) const override;
  ValueGradients backward_node(const ValueArguments&, const BackwardPass&) const override;

 protected:
  NoiseLayer(std::string class_name, LayerArgs args, std::optional<int64_t> seed);

  // Whether a training call perturbs the inputs (a rate or stddev above 0).
  virtual bool perturbs() const = 0;
  // ValueError for inputs the layer does not take (the spatial dropouts' ranks).
  virtual void check_inputs(const Shape& /*input_shape*/) const {}
  // The training output for `key`, a new tensor.
  virtual Tensor perturb(const Tensor& inputs, uint64_t key) const = 0;
  // Its backward: d_inputs for d_output (the perturbations are affine in the inputs).
  virtual Tensor perturb_backward(const Tensor& d_output, uint64_t key) const = 0;

  // ValueError (Keras's wording) unless 0 <= value <= 1: `argument` is "rate" or "stddev".
  void check_fraction(const std::string& argument, double value) const;
  // ValueError unless every entry of a noise_shape is positive or -1 (None).
  void check_noise_shape(const std::optional<Shape>& noise_shape) const;
  // A config's required `argument` (rate, stddev): a number; and its `seed`.
  static double read_required_number(ConfigReader& reader, const std::string& argument);
  static std::optional<int64_t> read_seed(ConfigReader& reader);
  // A config's `noise_shape`: null, or a list of integers and nulls (-1 here); and back.
  static std::optional<Shape> read_noise_shape(ConfigReader& reader);
  static Config noise_shape_config(const std::optional<Shape>& noise_shape);
  // get_config()'s base keys with `seed`.
  Config config_with_seed() const;

  // A noise_shape (-1: the input's length) resolved against an input shape: ValueError unless
  // every entry is the input's length or 1.
  Shape resolved_noise_shape(const std::optional<Shape>& noise_shape, const Shape& shape) const;
  // visit(i, n) for every element i of a row-major `shape`, with n the flat index of the
  // element of `noise` (a resolved noise shape) that it takes.
  static void for_each_noise_index(const Shape& shape, const Shape& noise,
                                   const std::function<void(int64_t, int64_t)>& visit);

 private:
  SeedGenerator seed_generator_;
};

}  // namespace kattn
