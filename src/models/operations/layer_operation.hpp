// What every layer's graph operation shares: names, config, the build_config Keras records,
// and typed access to the tensors a node passes in.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kattn/error.hpp"
#include "kattn/layer.hpp"
#include "kattn/models/operation.hpp"

namespace kattn::detail {

// Keras's auto-naming (backend.get_uid): `base` for the first object of that name in the
// process, then base_1, base_2, ...
std::string unique_name(const std::string& base);

// A shape as config.json writes it: a list with null for None (-1).
Config shape_config(const Shape& shape);

// The float32 / int32 / bool tensor of a node input; ValueError naming the argument and the
// dtype it has otherwise.
const Tensor& float_input(const ModelValue& value, ErrorSource source, std::string_view argument);
const Int32Tensor& int_input(const ModelValue& value, ErrorSource source,
                             std::string_view argument);
const Mask& bool_input(const ModelValue& value, ErrorSource source, std::string_view argument);
// ValueError unless the symbolic tensor has that dtype.
void check_dtype(const KerasTensor& tensor, DType expected, ErrorSource source,
                 std::string_view argument);

// The Keras mask a mask argument holds: an explicit bool tensor, or nullopt.
std::optional<Mask> mask_argument(const std::optional<ValuePtr>& value, ErrorSource source,
                                  std::string_view argument);

template <typename L>
class LayerOperation : public Operation {
 public:
  explicit LayerOperation(std::shared_ptr<L> layer) : layer_(std::move(layer)) {}

  std::string class_name() const override { return layer_->class_name(); }
  std::string name() const override { return layer_->name(); }
  std::string module() const override { return "keras.layers"; }
  Config get_config() const override { return layer_->get_config(); }
  Config build_config() const override { return build_config_; }
  Layer* layer() override { return layer_.get(); }

 protected:
  ErrorSource source() const { return {layer_->class_name(), layer_->name()}; }
  // Keras records the shapes of the first build only.
  void record_build_config(Config build_config) {
    if (build_config_.is_null()) build_config_ = std::move(build_config);
  }

  std::shared_ptr<L> layer_;

 private:
  Config build_config_ = nullptr;
};

}  // namespace kattn::detail

namespace kattn::detail {

// What a single-input layer does with the Keras mask of its input (Keras's supports_masking
// and compute_mask): pass it on to the output, or drop it.
enum class MaskRule { kPassThrough, kDrop };

// A layer called on one float32 tensor (`call(inputs)`), e.g. Dense, Conv1D,
// LayerNormalization. `kRecordsBuild`: Keras writes a build_config for the class (the layer
// class defines build()).
template <typename L, MaskRule kMask, bool kRecordsBuild>
class UnaryLayerOperation : public LayerOperation<L> {
 public:
  using LayerOperation<L>::LayerOperation;

  const std::vector<std::string>& call_parameters() const override {
    static const std::vector<std::string> parameters{"inputs"};
    return parameters;
  }

  std::vector<KerasTensor> compute_output_spec(
      const BoundArguments<KerasTensor>& arguments) override {
    const KerasTensor& x = arguments.tensor("inputs");
    check_dtype(x, DType::kFloat32, this->source(), "inputs");
    Shape shape = x.shape();
    if constexpr (requires(L & layer) { layer.build(shape); }) this->layer_->build(shape);
    if constexpr (kRecordsBuild)
      this->record_build_config(Config{{"input_shape", shape_config(shape)}});
    if constexpr (requires(const L& layer) { layer.compute_output_shape(shape); }) {
      shape = this->layer_->compute_output_shape(shape);
    }
    KerasTensor output(shape, DType::kFloat32);
    if (kMask == MaskRule::kPassThrough) output.set_keras_mask(x.keras_mask());
    return {output};
  }

  std::vector<ValuePtr> call(const BoundArguments<ValuePtr>& arguments,
                             const RunContext&) const override {
    const ValuePtr& x = arguments.tensor("inputs");
    Tensor y = this->layer_->call(float_input(*x, this->source(), "inputs"));
    return {
        make_value(std::move(y), kMask == MaskRule::kPassThrough ? x->keras_mask : std::nullopt)};
  }
};

}  // namespace kattn::detail
