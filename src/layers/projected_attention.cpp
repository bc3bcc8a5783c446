#include "kattn/layers/projected_attention.hpp"

#include <algorithm>
#include <cmath>

#include "core/node_inputs.hpp"
#include "layers/detail/attention_node.hpp"
#include "layers/detail/projected_attention.hpp"
#include "layers/detail/projected_attention_args.hpp"
#include "layers/detail/weight_args_config.hpp"

namespace kattn {

ProjectedAttention::ProjectedAttention(std::string class_name, LayerArgs args, Variant variant,
                                       SharedArgs shared)
    : Layer(std::move(class_name), std::move(args)),
      variant_(variant),
      dropout_(shared.dropout),
      use_bias_(shared.use_bias),
      use_gate_(shared.use_gate),
      sliding_window_(shared.sliding_window),
      flash_attention_(shared.flash_attention.value_or(false)),
      kernel_(
          detail::resolved_weight_args(std::move(shared.kernel), Initializer::glorot_uniform())),
      bias_(detail::resolved_weight_args(std::move(shared.bias), Initializer::zeros())),
      activity_regularizer_(std::move(shared.activity_regularizer)),
      seed_generator_(shared.seed),
      softmax_name_(detail::unique_name("softmax")),
      dropout_name_(detail::unique_name("dropout")) {}

void ProjectedAttention::build(const Shape& query_shape, const Shape& value_shape,
                               std::optional<Shape> key_shape) {
  const Shape key = key_shape.value_or(value_shape);
  build_once([&] { build_weights(query_shape, value_shape, key); });
}

void ProjectedAttention::add_projections(int64_t query_features, int64_t key_features,
                                         int64_t value_features, const Shape& output_dims) {
  const Heads h = heads();
  const auto add = [&](const char* name, const Shape& shape, bool kernel) {
    add_weight(name, shape, kernel ? kernel_ : bias_);
  };
  add("query/kernel", {query_features, h.query_heads, h.key_dim}, true);
  if (use_bias_) add("query/bias", {h.query_heads, h.key_dim}, false);
  add("key/kernel", {key_features, h.key_value_heads, h.key_dim}, true);
  if (use_bias_) add("key/bias", {h.key_value_heads, h.key_dim}, false);
  if (use_gate_) {
    add("gate/kernel", {query_features, h.query_heads, h.value_dim}, true);
    if (use_bias_) add("gate/bias", {h.query_heads, h.value_dim}, false);
  }
  add("value/kernel", {value_features, h.key_value_heads, h.value_dim}, true);
  if (use_bias_) add("value/bias", {h.key_value_heads, h.value_dim}, false);
  Shape output_kernel{h.query_heads, h.value_dim};
  output_kernel.insert(output_kernel.end(), output_dims.begin(), output_dims.end());
  add("attention_output/kernel", output_kernel, true);
  if (use_bias_) add("attention_output/bias", output_dims, false);
}

detail::PreparedAttention ProjectedAttention::prepare(const Tensor& query, const Tensor& value,
                                                      const CallArgs& args) const {
  const Tensor& key = args.key ? *args.key : value;
  detail::check_flash_attention_scores(error_source(), flash_attention_,
                                       args.return_attention_scores);
  build_once([&] {
    const_cast<ProjectedAttention*>(this)->build_weights(query.shape(), value.shape(), key.shape());
  });
  check_call_shapes(query, value, key);
  detail::PreparedAttention prepared = prepared_weights();
  prepared.key = &key;
  return prepared;
}

detail::PreparedAttention ProjectedAttention::prepared_weights() const {
  detail::PreparedAttention prepared;
  detail::ProjectedAttentionSettings& settings = prepared.settings;
  const Heads h = heads();
  settings.num_heads = h.query_heads;
  settings.num_kv_heads = h.key_value_heads;
  settings.scale = 1.0 / std::sqrt(static_cast<double>(h.key_dim));
  settings.dropout = dropout_;
  settings.sliding_window = sliding_window_.value_or(0);
  settings.attention_axes = attention_axes_built();
  prepared.weights = detail::projected_weights(weights());
  prepared.packed = std::static_pointer_cast<const detail::PackedProjections>(
      derived_from_weights([&] { return detail::pack_projections(prepared.weights); }));
  prepared.weights.packed = prepared.packed.get();
  return prepared;
}

AttentionOutput ProjectedAttention::call(const Tensor& query, const Tensor& value,
                                         const CallArgs& args) const {
  const detail::PreparedAttention prepared = prepare(query, value, args);
  return detail::projected_attention_call(error_source(), prepared.settings, prepared.weights,
                                          query, value, *prepared.key, args, seed_generator_);
}

AttentionForward ProjectedAttention::forward(const Tensor& query, const Tensor& value,
                                             const CallArgs& args) const {
  const detail::PreparedAttention prepared = prepare(query, value, args);
  return detail::projected_attention_forward(*this, error_source(), prepared.settings,
                                             prepared.weights, query, value, *prepared.key, args,
                                             seed_generator_);
}

AttentionInputGradients ProjectedAttention::backward(const AttentionForward& forward,
                                                     const Tensor& d_output,
                                                     std::vector<Tensor>& weight_gradients) const {
  check_gradient_buffers(weight_gradients);
  return detail::projected_attention_backward(
      *this, error_source(), detail::projected_weights(weights()), forward, d_output,
      detail::projected_gradients(weights(), weight_gradients));
}

void ProjectedAttention::check_built(const std::string& what) const {
  if (!built()) {
    throw_value_error(error_source(), what + " needs a built layer", "build() or a call first",
                      "an unbuilt layer");
  }
}

KVCache ProjectedAttention::make_cache(int64_t batch, int64_t max_length, CacheDtype dtype) const {
  check_built("make_cache");
  const Heads h = heads();
  return KVCache(batch, max_length, h.key_value_heads, h.key_dim, h.value_dim, dtype);
}

Tensor ProjectedAttention::call_cached(const Tensor& query, const Tensor& value, KVCache& cache,
                                       const CachedCallArgs& args) const {
  CallArgs call_args;
  call_args.key = args.key;
  const detail::PreparedAttention prepared = prepare(query, value, call_args);
  check_cached_call(query, cache);
  if (args.use_causal_mask && value.dim(1) != query.dim(1)) {
    throw_value_error(error_source(), "a causal cached call adds one position per query",
                      "value.shape[1] == query.shape[1]",
                      "query.shape=" + shape_to_string(query.shape()) +
                          ", value.shape=" + shape_to_string(value.shape()));
  }
  const int64_t offset = cache.length();
  detail::cache_projections(prepared.weights, value, *prepared.key, cache);
  return detail::projected_attention_cached(prepared.settings, prepared.weights, query, cache,
                                            offset, args.use_causal_mask);
}

Tensor ProjectedAttention::call_cached(const Tensor& query, const KVCache& cache) const {
  check_built("a call on a cache alone");
  const detail::PreparedAttention prepared = prepared_weights();
  const int64_t features = prepared.weights.query_kernel->dim(0);
  if (query.rank() != 3 || query.dim(2) != features) {
    throw_value_error(error_source(), "invalid `query` for a cached call",
                      "(B, T, " + std::to_string(features) + ")",
                      "query.shape=" + shape_to_string(query.shape()));
  }
  check_cached_call(query, cache);
  if (cache.length() == 0) {
    throw_value_error(error_source(), "the cache is empty", "a cache holding some positions",
                      "length=0");
  }
  // As a call of query on the cached sequence: query row t at position t for the sliding window.
  return detail::projected_attention_cached(prepared.settings, prepared.weights, query, cache, 0,
                                            false);
}

void ProjectedAttention::check_cached_call(const Tensor& query, const KVCache& cache) const {
  if (query.rank() != 3) {
    throw NotSupportedError(error_message(error_source(), "cached calls take rank-3 inputs",
                                          "query (B, T, Dq)",
                                          "query.shape=" + shape_to_string(query.shape())));
  }
  const Heads h = heads();
  if (cache.batch() != query.dim(0) || cache.num_kv_heads() != h.key_value_heads ||
      cache.key_dim() != h.key_dim || cache.value_dim() != h.value_dim) {
    throw_value_error(error_source(), "the cache does not fit this layer and query",
                      "batch " + std::to_string(query.dim(0)) + ", " +
                          std::to_string(h.key_value_heads) + " key/value heads of sizes " +
                          std::to_string(h.key_dim) + " and " + std::to_string(h.value_dim),
                      "batch " + std::to_string(cache.batch()) + ", " +
                          std::to_string(cache.num_kv_heads()) + " heads of sizes " +
                          std::to_string(cache.key_dim()) + " and " +
                          std::to_string(cache.value_dim()));
  }
}

Config ProjectedAttention::get_config() const {
  Config config = Layer::get_config();
  config["dropout"] = dropout_;
  config["use_bias"] = use_bias_;
  config["use_gate"] = use_gate_;
  config["sliding_window"] = detail::optional_to_json(sliding_window_);
  detail::write_weight_args(config, "kernel", kernel_);
  detail::write_weight_args(config, "bias", bias_);
  config["activity_regularizer"] = activity_regularizer_;
  config["seed"] = detail::optional_to_json(seed_generator_.seed());
  own_config(config);
  return config;
}

// The graph node.

const std::vector<std::string>& ProjectedAttention::call_parameters() const {
  static const std::vector<std::string> parameters{"query",
                                                   "value",
                                                   "key",
                                                   "query_mask",
                                                   "value_mask",
                                                   "key_mask",
                                                   "attention_mask",
                                                   "return_attention_scores",
                                                   "training",
                                                   "use_causal_mask"};
  return parameters;
}

std::vector<KerasTensor> ProjectedAttention::compute_output_spec(
    const SymbolicArguments& arguments) {
  const KerasTensor& query = arguments.tensor("query");
  const KerasTensor& value = arguments.tensor("value");
  const std::optional<KerasTensor> key = arguments.optional_tensor("key");
  detail::check_dtype(query, DType::kFloat32, error_source(), "query");
  detail::check_dtype(value, DType::kFloat32, error_source(), "value");
  if (key) detail::check_dtype(*key, DType::kFloat32, error_source(), "key");
  const std::optional<Shape> key_shape = key ? std::optional(key->shape()) : std::nullopt;
  build(query.shape(), value.shape(), key_shape);
  Config shapes{{"query_shape", detail::shape_config(query.shape())},
                {"value_shape", detail::shape_config(value.shape())}};
  if (key) shapes["key_shape"] = detail::shape_config(key->shape());
  record_build_config(Config{{"shapes_dict", shapes}});

  KerasTensor output(compute_output_shape(query.shape(), value.shape(), key_shape),
                     DType::kFloat32);
  // The output carries the query's mask (Keras's compute_mask returns query_mask).
  std::optional<KerasTensor> query_mask = query.keras_mask();
  if (variant_ == Variant::kGroupedQuery && arguments.given("query_mask")) {
    query_mask = arguments.optional_tensor("query_mask");
  }
  if (query_mask) output.set_keras_mask(query_mask);
  std::vector<KerasTensor> outputs{output};
  if (arguments.flag("return_attention_scores", false)) {
    outputs.emplace_back(scores_shape(query.shape(), key_shape.value_or(value.shape())),
                         DType::kFloat32);
  }
  return outputs;
}

std::vector<ValuePtr> ProjectedAttention::call_node(const ValueArguments& arguments,
                                                    const RunContext& context) const {
  const CallArgs args = node_call_args(arguments, context);
  const AttentionOutput result =
      call(detail::float_input(*arguments.tensor("query"), error_source(), "query"),
           detail::float_input(*arguments.tensor("value"), error_source(), "value"), args);
  return node_outputs(arguments, result, args);
}

OperationForward ProjectedAttention::forward_node(const ValueArguments& arguments,
                                                  const RunContext& context) const {
  const CallArgs args = node_call_args(arguments, context);
  AttentionForward saved =
      forward(detail::float_input(*arguments.tensor("query"), error_source(), "query"),
              detail::float_input(*arguments.tensor("value"), error_source(), "value"), args);
  return {node_outputs(arguments, saved.result, args), detail::save_call(*this, std::move(saved))};
}

// The gradients of query, value and key (when given); the masks get none.
ValueGradients ProjectedAttention::backward_node(const ValueArguments& arguments,
                                                 const BackwardPass& pass) const {
  std::vector<ValuePtr> inputs{arguments.tensor("query"), arguments.tensor("value")};
  if (const std::optional<ValuePtr> key = arguments.optional_tensor("key")) inputs.push_back(*key);
  return detail::attention_backward(*this, inputs, pass);
}

WeightLayout ProjectedAttention::weight_layout() const {
  const std::string prefix = variant_ == Variant::kMultiHead ? "" : "_";
  const std::vector<std::pair<std::string, std::string>> sublayers{
      {"query", prefix + "query_dense"},
      {"key", prefix + "key_dense"},
      {"value", prefix + "value_dense"},
      {"attention_output", prefix + "output_dense"},
      {"gate", "_gate_dense"}};
  WeightLayout layout;
  layout.groups.emplace_back("vars", name());
  for (const Variable& weight : weights()) {
    const size_t slash = weight.name.find('/');
    const std::string sublayer = weight.name.substr(0, slash);
    for (const auto& [keras_name, group] : sublayers) {
      if (keras_name != sublayer) continue;
      layout.datasets.push_back(group + "/vars/" +
                                (weight.name.substr(slash + 1) == "kernel" ? "0" : "1"));
      if (layout.groups.back().first != group + "/vars") {
        layout.groups.emplace_back(group + "/vars", keras_name);
      }
    }
  }
  layout.groups.emplace_back("_softmax/vars", softmax_name_);
  layout.groups.emplace_back("_dropout_layer/vars", dropout_name_);
  return layout;
}

void ProjectedAttention::adopt_group_names(const std::map<std::string, std::string>& names) {
  if (const auto it = names.find("_softmax/vars"); it != names.end()) softmax_name_ = it->second;
  if (const auto it = names.find("_dropout_layer/vars"); it != names.end()) {
    dropout_name_ = it->second;
  }
}

ProjectedAttention::CallArgs ProjectedAttention::node_call_args(const ValueArguments& arguments,
                                                                const RunContext& context) const {
  const ErrorSource source = error_source();
  const ValuePtr& query = arguments.tensor("query");
  const ValuePtr& value = arguments.tensor("value");
  const std::optional<ValuePtr> key = arguments.optional_tensor("key");
  CallArgs args;
  if (key) args.key = detail::float_input(**key, source, "key");
  args.query_mask = query->keras_mask;
  if (variant_ == Variant::kGroupedQuery && arguments.given("query_mask")) {
    args.query_mask =
        detail::mask_argument(arguments.optional_tensor("query_mask"), source, "query_mask");
  }
  args.value_mask =
      arguments.given("value_mask")
          ? detail::mask_argument(arguments.optional_tensor("value_mask"), source, "value_mask")
          : value->keras_mask;
  if (arguments.given("key_mask")) {
    args.key_mask =
        detail::mask_argument(arguments.optional_tensor("key_mask"), source, "key_mask");
  } else if (key) {
    args.key_mask = (*key)->keras_mask;
  }
  args.attention_mask =
      detail::mask_argument(arguments.optional_tensor("attention_mask"), source, "attention_mask");
  args.use_causal_mask = arguments.flag("use_causal_mask", false);
  args.return_attention_scores = arguments.flag("return_attention_scores", false);
  args.training = arguments.flag("training", context.training);
  return args;
}

std::vector<ValuePtr> ProjectedAttention::node_outputs(const ValueArguments& arguments,
                                                       const AttentionOutput& result,
                                                       const CallArgs& args) const {
  if (variant_ == Variant::kMultiHead) {
    // Keras's MultiHeadAttention.call sets `_keras_mask = None` on its input tensors.
    arguments.tensor("query")->keras_mask.reset();
    arguments.tensor("value")->keras_mask.reset();
    if (const std::optional<ValuePtr> key = arguments.optional_tensor("key")) {
      (*key)->keras_mask.reset();
    }
  }
  // The output carries the query mask the call used.
  std::vector<ValuePtr> outputs{make_value(result.output, args.query_mask)};
  if (result.attention_scores) outputs.push_back(make_value(*result.attention_scores));
  return outputs;
}

Shape ProjectedAttention::scores_shape(const Shape& query, const Shape& key) const {
  const std::vector<int64_t> axes = attention_axes_built();
  Shape shape;
  for (size_t axis = 0; axis + 1 < query.size(); ++axis) {
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(axis)) == axes.end()) {
      shape.push_back(query[axis]);
    }
  }
  shape.push_back(heads().query_heads);
  for (int64_t axis : axes) shape.push_back(query[static_cast<size_t>(axis)]);
  for (int64_t axis : axes) shape.push_back(key[static_cast<size_t>(axis)]);
  return shape;
}

}  // namespace kattn
