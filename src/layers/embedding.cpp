// keras.layers.Embedding: Embedding.build, Embedding.call (ops.take along axis 0) and
// Embedding.compute_mask.
#include "kattn/layers/embedding.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "core/node_inputs.hpp"
#include "layers/detail/core_layer_args.hpp"
#include "layers/detail/layer_backward.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"
#include "ops/numpy_operations.hpp"

namespace kattn {

namespace {

// ops.not_equal(ids, 0), elementwise.
template <typename T>
Mask not_equal_zero(const BasicTensor<T>& ids) {
  Mask mask(ids.shape());
  const BasicTensor<T> flat_ids = ids.contiguous();
  for (int64_t i = 0; i < flat_ids.size(); ++i) mask.data()[i] = flat_ids.data()[i] != T{0};
  return mask;
}

// The row-major index of flat position `flat` in `shape`, as Python prints it: "(1, 3)".
std::string index_string(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return detail::keras_shape(index);
}

struct EmbeddingSaved : detail::SavedForBackward {
  Int32Tensor ids;  // contiguous, checked
};

}  // namespace

Embedding::Embedding(Args args)
    : Layer("Embedding", LayerArgs{std::move(args.name), args.trainable}),
      input_dim_(args.input_dim),
      output_dim_(args.output_dim),
      embeddings_(
          detail::resolved_weight_args(std::move(args.embeddings), Initializer::random_uniform())),
      activity_regularizer_(std::move(args.activity_regularizer)),
      mask_zero_(args.mask_zero) {
  detail::check_positive_argument(error_source(), "input_dim", input_dim_);
  detail::check_positive_argument(error_source(), "output_dim", output_dim_);
  if (args.weights) {
    // Embedding.__init__: self.build(); self.set_weights([weights]).
    build();
    set_weights({*args.weights});
  }
}

std::unique_ptr<Embedding> Embedding::from_config(const Config& config) {
  ConfigReader reader(config, {"Embedding", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  args.input_dim = detail::read_positive_int(reader, "input_dim");
  args.output_dim = detail::read_positive_int(reader, "output_dim");
  args.embeddings = detail::read_weight_args(reader, "embeddings", "uniform");
  args.activity_regularizer = detail::read_keras_object(reader, "activity_regularizer");
  args.mask_zero = reader.get_bool("mask_zero", false);
  for (const char* key : {"lora_rank", "lora_alpha", "quantization_config"}) {
    detail::read_unsupported_argument(reader, key);
  }
  reader.check_all_read();
  return std::make_unique<Embedding>(std::move(args));
}

void Embedding::build(const Shape& /*input_shape*/) {
  build_once([&] { build_weights(); });
}

void Embedding::build_weights() {
  add_weight("embeddings", {input_dim_, output_dim_}, embeddings_);
}

Shape Embedding::compute_output_shape(const Shape& input_shape) const {
  Shape output = input_shape;
  output.push_back(output_dim_);
  return output;
}

Tensor Embedding::call(const Int32Tensor& ids) const {
  build_once([&] { const_cast<Embedding*>(this)->build_weights(); });
  const Int32Tensor flat_ids = ids.contiguous();
  const int32_t* id = flat_ids.data();
  const int64_t count = flat_ids.size();
  // Every id is checked before any row is copied.
  const int32_t* bad =
      std::find_if(id, id + count, [&](int32_t value) { return value < 0 || value >= input_dim_; });
  if (bad != id + count) {
    throw_value_error(
        error_source(), "id out of range", "ids in [0, " + std::to_string(input_dim_) + ")",
        "id=" + std::to_string(*bad) + " at index " + index_string(ids.shape(), bad - id));
  }
  Tensor output(compute_output_shape(ids.shape()));
  const Tensor table = weights()[0].value.contiguous();
  for (int64_t i = 0; i < count; ++i) {
    const float* row = table.data() + static_cast<int64_t>(id[i]) * output_dim_;
    std::copy(row, row + output_dim_, output.data() + i * output_dim_);
  }
  return output;
}

LayerForward Embedding::forward(const Int32Tensor& ids) const {
  auto saved = std::make_shared<EmbeddingSaved>();
  saved->layer = this;
  saved->ids = ids.contiguous();
  return {call(ids), std::move(saved)};
}

void Embedding::backward(const LayerForward& forward, const Tensor& d_output,
                         std::vector<Tensor>& weight_gradients) const {
  const auto& saved =
      detail::saved_for_backward<EmbeddingSaved>(*this, forward, d_output, weight_gradients);
  // output[i, :] = embeddings[ids[i], :]: each looked-up row gathers the gradients of its uses.
  const Tensor d = d_output.contiguous();
  float* d_table = weight_gradients[0].data();
  const int32_t* id = saved.ids.data();
  for (int64_t i = 0; i < saved.ids.size(); ++i) {
    float* row = d_table + static_cast<int64_t>(id[i]) * output_dim_;
    const float* d_row = d.data() + i * output_dim_;
    for (int64_t j = 0; j < output_dim_; ++j) row[j] += d_row[j];
  }
}

std::optional<Mask> Embedding::compute_mask(const Tensor& ids) const {
  if (!mask_zero_) return std::nullopt;
  return not_equal_zero(ids);
}

Int32Tensor Embedding::cast_ids(const Tensor& ids) const {
  const Tensor flat_ids = ids.contiguous();
  Int32Tensor out(ids.shape());
  for (int64_t i = 0; i < flat_ids.size(); ++i) {
    const float id = flat_ids.data()[i];
    // 2147483648.0F is the first float above int32's range.
    if (!(std::trunc(id) > -2147483649.0F && std::trunc(id) < 2147483648.0F)) {
      throw_value_error(error_source(), "float ids cast to int32 out of range",
                        "finite ids within int32's range", "an id of " + std::to_string(id));
    }
    out.data()[i] = static_cast<int32_t>(id);
  }
  return out;
}

std::optional<Mask> Embedding::compute_mask(const Int32Tensor& ids) const {
  if (!mask_zero_) return std::nullopt;
  return not_equal_zero(ids);
}

Config Embedding::get_config() const {
  Config config = Layer::get_config();
  config["input_dim"] = input_dim_;
  config["output_dim"] = output_dim_;
  detail::write_weight_args(config, "embeddings", embeddings_);
  config["activity_regularizer"] = activity_regularizer_;
  config["mask_zero"] = mask_zero_;
  config["quantization_config"] = nullptr;
  return config;
}

namespace {

// The ids of a node's `inputs` and the mask compute_mask gives them.
std::pair<Int32Tensor, std::optional<Mask>> ids_and_mask(const Embedding& layer,
                                                         const ModelValue& value,
                                                         ErrorSource source) {
  if (const auto* ids = std::get_if<Tensor>(&value.tensor)) {
    return {layer.cast_ids(*ids), layer.compute_mask(*ids)};
  }
  const Int32Tensor& ids = detail::int_input(value, source, "inputs");
  return {ids, layer.compute_mask(ids)};
}

}  // namespace

const std::vector<std::string>& Embedding::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs"};
  return parameters;
}

std::vector<KerasTensor> Embedding::compute_output_spec(const SymbolicArguments& arguments) {
  const KerasTensor& ids = arguments.tensor("inputs");
  if (ids.dtype() == DType::kBool)
    detail::check_dtype(ids, DType::kInt32, error_source(), "inputs");
  build(ids.shape());
  record_build_config(Config{{"input_shape", detail::shape_config(ids.shape())}});
  KerasTensor output(compute_output_shape(ids.shape()), DType::kFloat32);
  // Keras's Embedding.compute_mask: ops.not_equal(inputs, 0).
  if (mask_zero_) output.set_keras_mask(detail::symbolic_not_equal(ids, 0));
  return {output};
}

std::vector<ValuePtr> Embedding::call_node(const ValueArguments& arguments,
                                           const RunContext& /*context*/) const {
  const auto [ids, mask] = ids_and_mask(*this, *arguments.tensor("inputs"), error_source());
  return {make_value(call(ids), mask)};
}

OperationForward Embedding::forward_node(const ValueArguments& arguments,
                                         const RunContext& /*context*/) const {
  const auto [ids, mask] = ids_and_mask(*this, *arguments.tensor("inputs"), error_source());
  LayerForward saved = forward(ids);
  return {{make_value(saved.output, mask)}, detail::save_call(*this, std::move(saved))};
}

ValueGradients Embedding::backward_node(const ValueArguments& /*arguments*/,
                                        const BackwardPass& pass) const {
  const LayerForward& saved = detail::saved_call<LayerForward>(*this, pass.forward, error_source());
  if (const Tensor* d_output = detail::output_gradient(pass.d_outputs, 0)) {
    backward(saved, *d_output, pass.weight_gradients);
  }
  return {};
}

}  // namespace kattn
