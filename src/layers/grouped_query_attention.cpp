#include "kattn/layers/grouped_query_attention.hpp"

#include <cmath>

#include "kernels/dispatch.hpp"
#include "layers/detail/projected_attention.hpp"
#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

}  // namespace

GroupedQueryAttention::GroupedQueryAttention(Args args)
    : Layer("GroupQueryAttention", LayerArgs{std::move(args.name), args.trainable}),
      head_dim_(args.head_dim),
      num_query_heads_(args.num_query_heads),
      num_key_value_heads_(args.num_key_value_heads),
      dropout_(args.dropout),
      use_bias_(args.use_bias),
      use_gate_(args.use_gate),
      sliding_window_(args.sliding_window),
      flash_attention_(args.flash_attention.value_or(false)),
      kernel_initializer_(std::move(args.kernel_initializer)),
      bias_initializer_(std::move(args.bias_initializer)),
      kernel_regularizer_(std::move(args.kernel_regularizer)),
      bias_regularizer_(std::move(args.bias_regularizer)),
      activity_regularizer_(std::move(args.activity_regularizer)),
      kernel_constraint_(std::move(args.kernel_constraint)),
      bias_constraint_(std::move(args.bias_constraint)),
      seed_generator_(args.seed) {
  const ErrorSource source = error_source();
  detail::check_positive_argument(source, "head_dim", head_dim_);
  detail::check_positive_argument(source, "num_query_heads", num_query_heads_);
  detail::check_positive_argument(source, "num_key_value_heads", num_key_value_heads_);
  if (num_query_heads_ % num_key_value_heads_ != 0) {
    throw_value_error(source, "`num_query_heads` must be divisible by `num_key_value_heads`",
                      "num_query_heads % num_key_value_heads == 0",
                      "num_query_heads=" + std::to_string(num_query_heads_) +
                          ", num_key_value_heads=" + std::to_string(num_key_value_heads_));
  }
  detail::check_dropout_rate(source, dropout_);
  detail::check_sliding_window(source, sliding_window_);
  detail::check_flash_attention(source, args.flash_attention, dropout_);
}

std::unique_ptr<GroupedQueryAttention> GroupedQueryAttention::from_config(const Config& config) {
  const std::string layer_name = config_layer_name(config);
  ConfigReader reader(config, {"GroupQueryAttention", layer_name});
  Args args;
  detail::read_shared_projected_args(reader, "grouped_query_attention", args);
  args.head_dim = detail::read_positive_int(reader, "head_dim");
  args.num_query_heads = detail::read_positive_int(reader, "num_query_heads");
  args.num_key_value_heads = detail::read_positive_int(reader, "num_key_value_heads");
  reader.check_all_read();
  return std::make_unique<GroupedQueryAttention>(std::move(args));
}

void GroupedQueryAttention::check_shapes(const Shape& query_shape, const Shape& value_shape,
                                         const Shape& key_shape) const {
  const ErrorSource source = error_source();
  if (query_shape.size() != 3 || value_shape.size() != 3 || key_shape.size() != 3) {
    throw_value_error(
        source, "`query`, `value` and `key` must have rank 3", "shapes (batch, length, features)",
        "query_shape=" + keras_shape(query_shape) + ", value_shape=" + keras_shape(value_shape) +
            ", key_shape=" + keras_shape(key_shape));
  }
  // Keras's compute_output_shape.
  if (query_shape[2] != value_shape[2]) {
    throw_value_error(
        source,
        "The last dimension of `query_shape` and `value_shape` must be equal, but "
        "are " +
            std::to_string(query_shape[2]) + ", " + std::to_string(value_shape[2]),
        "query and value with one feature dimension",
        "query_shape=" + keras_shape(query_shape) + ", value_shape=" + keras_shape(value_shape));
  }
  detail::check_value_key(source, value_shape, key_shape, /*with_batch=*/true);
  if (query_shape[0] >= 0 && value_shape[0] >= 0 && query_shape[0] != value_shape[0]) {
    throw_value_error(
        source, "`query` and `value` must have the same batch size", "equal lengths on axis 0",
        "query_shape=" + keras_shape(query_shape) + ", value_shape=" + keras_shape(value_shape));
  }
  for (const Shape* shape : {&query_shape, &key_shape}) {
    if (shape->back() <= 0) {
      throw_value_error(source, "the last dimension of the inputs must be known and positive",
                        "a feature dimension > 0", "shape=" + keras_shape(*shape));
    }
  }
}

void GroupedQueryAttention::build(const Shape& query_shape, const Shape& value_shape,
                                  std::optional<Shape> key_shape) {
  const Shape key = key_shape.value_or(value_shape);
  build_once([&] { build_weights(query_shape, value_shape, key); });
}

void GroupedQueryAttention::build_weights(const Shape& query_shape, const Shape& value_shape,
                                          const Shape& key_shape) {
  check_shapes(query_shape, value_shape, key_shape);
  const int64_t N = num_query_heads_, K = num_key_value_heads_, H = head_dim_;
  const int64_t D = query_shape.back();
  const auto add = [&](const char* name, const Shape& shape, bool kernel) {
    add_weight(name, shape, kernel ? kernel_initializer_ : bias_initializer_);
  };
  add("query/kernel", {D, N, H}, true);
  if (use_bias_) add("query/bias", {N, H}, false);
  add("key/kernel", {key_shape.back(), K, H}, true);
  if (use_bias_) add("key/bias", {K, H}, false);
  if (use_gate_) {
    add("gate/kernel", {D, N, H}, true);
    if (use_bias_) add("gate/bias", {N, H}, false);
  }
  add("value/kernel", {value_shape.back(), K, H}, true);
  if (use_bias_) add("value/bias", {K, H}, false);
  add("attention_output/kernel", {N, H, D}, true);
  if (use_bias_) add("attention_output/bias", {D}, false);

  built_query_dim_ = D;
  built_value_dim_ = value_shape.back();
  built_key_dim_ = key_shape.back();
}

detail::PreparedAttention GroupedQueryAttention::prepare(const Tensor& query, const Tensor& value,
                                                         const CallArgs& args) const {
  const Tensor& key = args.key ? *args.key : value;
  detail::check_flash_attention_scores(error_source(), flash_attention_,
                                       args.return_attention_scores);
  check_shapes(query.shape(), value.shape(), key.shape());
  build_once([&] {
    const_cast<GroupedQueryAttention*>(this)->build_weights(query.shape(), value.shape(),
                                                            key.shape());
  });
  if (query.dim(-1) != built_query_dim_ || value.dim(-1) != built_value_dim_ ||
      key.dim(-1) != built_key_dim_) {
    throw_value_error(
        error_source(), "input shapes do not match the shapes the layer was built for",
        "last dimensions query " + std::to_string(built_query_dim_) + ", value " +
            std::to_string(built_value_dim_) + ", key " + std::to_string(built_key_dim_),
        "query_shape=" + keras_shape(query.shape()) + ", value_shape=" +
            keras_shape(value.shape()) + ", key_shape=" + keras_shape(key.shape()));
  }

  detail::PreparedAttention prepared;
  detail::ProjectedAttentionSettings& settings = prepared.settings;
  settings.num_heads = num_query_heads_;
  settings.num_kv_heads = num_key_value_heads_;
  settings.scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  settings.dropout = dropout_;
  settings.sliding_window = sliding_window_.value_or(0);
  settings.attention_axes = {1};
  prepared.key = &key;
  prepared.weights = detail::projected_weights(weights());
  if (kernels::active_isa() == kernels::Isa::kAvx2) {
    prepared.packed = std::static_pointer_cast<const detail::PackedProjections>(
        derived_from_weights([&] { return detail::pack_projections(prepared.weights); }));
    prepared.weights.packed = prepared.packed.get();
  }
  return prepared;
}

AttentionOutput GroupedQueryAttention::call(const Tensor& query, const Tensor& value,
                                            const CallArgs& args) const {
  const detail::PreparedAttention prepared = prepare(query, value, args);
  return detail::projected_attention_call(error_source(), prepared.settings, prepared.weights,
                                          query, value, *prepared.key, args, seed_generator_);
}

AttentionForward GroupedQueryAttention::forward(const Tensor& query, const Tensor& value,
                                                const CallArgs& args) const {
  const detail::PreparedAttention prepared = prepare(query, value, args);
  return detail::projected_attention_forward(*this, error_source(), prepared.settings,
                                             prepared.weights, query, value, *prepared.key, args,
                                             seed_generator_);
}

AttentionInputGradients GroupedQueryAttention::backward(
    const AttentionForward& forward, const Tensor& d_output,
    std::vector<Tensor>& weight_gradients) const {
  check_gradient_buffers(weight_gradients);
  return detail::projected_attention_backward(
      *this, error_source(), detail::projected_weights(weights()), forward, d_output,
      detail::projected_gradients(weights(), weight_gradients));
}

Shape GroupedQueryAttention::compute_output_shape(const Shape& query_shape,
                                                  const Shape& value_shape,
                                                  std::optional<Shape> key_shape) const {
  check_shapes(query_shape, value_shape, key_shape.value_or(value_shape));
  return query_shape;
}

Config GroupedQueryAttention::get_config() const {
  Config config = Layer::get_config();
  config["head_dim"] = head_dim_;
  config["num_query_heads"] = num_query_heads_;
  config["num_key_value_heads"] = num_key_value_heads_;
  config["use_bias"] = use_bias_;
  config["use_gate"] = use_gate_;
  config["sliding_window"] = detail::optional_to_json(sliding_window_);
  config["dropout"] = dropout_;
  config["kernel_initializer"] = kernel_initializer_.get_config();
  config["bias_initializer"] = bias_initializer_.get_config();
  config["kernel_regularizer"] = kernel_regularizer_;
  config["bias_regularizer"] = bias_regularizer_;
  config["activity_regularizer"] = activity_regularizer_;
  config["kernel_constraint"] = kernel_constraint_;
  config["bias_constraint"] = bias_constraint_;
  config["seed"] = detail::optional_to_json(seed_generator_.seed());
  return config;
}

}  // namespace kattn
