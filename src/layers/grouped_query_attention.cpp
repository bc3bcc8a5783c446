#include "kattn/layers/grouped_query_attention.hpp"

#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

}  // namespace

GroupedQueryAttention::GroupedQueryAttention(Args args)
    : ProjectedAttention("GroupQueryAttention", LayerArgs{args.name, args.trainable},
                         Variant::kGroupedQuery, SharedArgs::of(args)),
      head_dim_(args.head_dim),
      num_query_heads_(args.num_query_heads),
      num_key_value_heads_(args.num_key_value_heads) {
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
  detail::check_dropout_rate(source, dropout());
  detail::check_sliding_window(source, sliding_window());
  detail::check_flash_attention(source, args.flash_attention, dropout());
}

std::unique_ptr<GroupedQueryAttention> GroupedQueryAttention::from_config(const Config& config) {
  ConfigReader reader(config, {"GroupQueryAttention", config_layer_name(config)});
  Args args;
  detail::read_shared_projected_args(reader, args);
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

void GroupedQueryAttention::build_weights(const Shape& query_shape, const Shape& value_shape,
                                          const Shape& key_shape) {
  check_shapes(query_shape, value_shape, key_shape);
  const int64_t D = query_shape.back();
  add_projections(D, key_shape.back(), value_shape.back(), {D});
  built_query_dim_ = D;
  built_value_dim_ = value_shape.back();
  built_key_dim_ = key_shape.back();
}

void GroupedQueryAttention::check_call_shapes(const Tensor& query, const Tensor& value,
                                              const Tensor& key) const {
  check_shapes(query.shape(), value.shape(), key.shape());
  if (query.dim(-1) != built_query_dim_ || value.dim(-1) != built_value_dim_ ||
      key.dim(-1) != built_key_dim_) {
    throw_value_error(
        error_source(), "input shapes do not match the shapes the layer was built for",
        "last dimensions query " + std::to_string(built_query_dim_) + ", value " +
            std::to_string(built_value_dim_) + ", key " + std::to_string(built_key_dim_),
        "query_shape=" + keras_shape(query.shape()) + ", value_shape=" +
            keras_shape(value.shape()) + ", key_shape=" + keras_shape(key.shape()));
  }
}

Shape GroupedQueryAttention::compute_output_shape(const Shape& query_shape,
                                                  const Shape& value_shape,
                                                  std::optional<Shape> key_shape) const {
  check_shapes(query_shape, value_shape, key_shape.value_or(value_shape));
  return query_shape;
}

void GroupedQueryAttention::own_config(Config& config) const {
  config["head_dim"] = head_dim_;
  config["num_query_heads"] = num_query_heads_;
  config["num_key_value_heads"] = num_key_value_heads_;
}

}  // namespace kattn
