#include "kattn/layers/multi_head_attention.hpp"

#include <algorithm>
#include <cmath>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

using detail::check_value_key;
using detail::keras_shape;
using detail::python_float;

std::string axes_string(const std::vector<int64_t>& axes) {
  std::string text = "(";
  for (size_t i = 0; i < axes.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(axes[i]);
  }
  return text + (axes.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> read_axes(ConfigReader& reader) {
  const Config& value = reader.get("attention_axes", nullptr);
  if (value.is_number_integer()) return {value.get<int64_t>()};
  if (value.is_array()) {
    std::vector<int64_t> axes;
    for (const Config& axis : value) {
      if (!axis.is_number_integer()) reader.fail("attention_axes", "an int, list, or tuple");
      axes.push_back(axis.get<int64_t>());
    }
    return axes;
  }
  reader.fail("attention_axes", "an int, list, or tuple of ints, or None");
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(Args args)
    : ProjectedAttention("MultiHeadAttention", LayerArgs{args.name, args.trainable},
                         Variant::kMultiHead, SharedArgs::of(args)),
      num_heads_(args.num_heads),
      key_dim_(args.key_dim),
      value_dim_(args.value_dim.value_or(args.key_dim)),
      output_shape_(std::move(args.output_shape)),
      attention_axes_(std::move(args.attention_axes)) {
  const ErrorSource source = error_source();
  detail::check_positive_argument(source, "num_heads", num_heads_);
  detail::check_positive_argument(source, "key_dim", key_dim_);
  if (args.value_dim) detail::check_positive_argument(source, "value_dim", *args.value_dim);
  detail::check_dropout_rate(source, dropout());
  if (output_shape_ &&
      (output_shape_->empty() || std::any_of(output_shape_->begin(), output_shape_->end(),
                                             [](int64_t d) { return d <= 0; }))) {
    throw_value_error(source, "Invalid `output_shape`",
                      "an int or a tuple of positive ints (the output's trailing dimensions)",
                      "output_shape=" + keras_shape(*output_shape_));
  }
  detail::check_sliding_window(source, sliding_window());
  detail::check_flash_attention(source, args.flash_attention, dropout());
}

std::unique_ptr<MultiHeadAttention> MultiHeadAttention::from_config(const Config& config) {
  ConfigReader reader(config, {"MultiHeadAttention", config_layer_name(config)});
  Args args;
  detail::read_shared_projected_args(reader, args);
  args.num_heads = detail::read_positive_int(reader, "num_heads");
  args.key_dim = detail::read_positive_int(reader, "key_dim");
  if (!reader.get("value_dim", nullptr).is_null()) {
    args.value_dim = detail::read_positive_int(reader, "value_dim");
  }
  const Config& output_shape = reader.get("output_shape", nullptr);
  if (output_shape.is_number_integer()) {
    args.output_shape = Shape{output_shape.get<int64_t>()};
  } else if (output_shape.is_array()) {
    Shape shape;
    for (const Config& dim : output_shape) {
      if (!dim.is_number_integer()) reader.fail("output_shape", "an int, list, or tuple of ints");
      shape.push_back(dim.get<int64_t>());
    }
    args.output_shape = shape;
  } else if (!output_shape.is_null()) {
    throw_value_error(
        reader.source(), "Invalid `output_shape`",
        "an int or a tuple of positive ints (the output's trailing dimensions)",
        "output_shape=" + (output_shape.is_number() ? python_float(output_shape.get<double>())
                                                    : output_shape.dump()));
  }
  if (!reader.get("attention_axes", nullptr).is_null()) args.attention_axes = read_axes(reader);
  reader.check_all_read();
  return std::make_unique<MultiHeadAttention>(std::move(args));
}

void MultiHeadAttention::build_weights(const Shape& query_shape, const Shape& value_shape,
                                       const Shape& key_shape) {
  const ErrorSource source = error_source();
  const int64_t rank = static_cast<int64_t>(query_shape.size());
  check_value_key(source, value_shape, key_shape, /*with_batch=*/false);  // Keras checks first
  if (rank < 3 || value_shape.size() != query_shape.size() ||
      key_shape.size() != query_shape.size()) {
    throw_value_error(source, "`query`, `value` and `key` must have one rank, 3 or more",
                      "shapes (batch, ..., features) of equal rank",
                      "query_shape=" + keras_shape(query_shape) + ", value_shape=" +
                          keras_shape(value_shape) + ", key_shape=" + keras_shape(key_shape));
  }
  for (const Shape* shape : {&query_shape, &value_shape, &key_shape}) {
    if (shape->back() <= 0) {
      throw_value_error(source, "the last dimension of the inputs must be known and positive",
                        "a feature dimension > 0", "shape=" + keras_shape(*shape));
    }
  }

  // Keras's _build_attention: the default is every axis but batch and features; negative axes
  // count from the end of the input's axes.
  std::vector<int64_t> axes;
  if (!attention_axes_) {
    for (int64_t axis = 1; axis < rank - 1; ++axis) axes.push_back(axis);
  } else {
    for (const int64_t axis : *attention_axes_) {
      const int64_t normalised = axis < 0 ? axis + rank : axis;
      if (normalised < 1 || normalised > rank - 2) {
        throw_value_error(source, "`attention_axes` out of range",
                          "axes in [1, " + std::to_string(rank - 2) + "] or [" +
                              std::to_string(1 - rank) + ", -2] for inputs of rank " +
                              std::to_string(rank) + " (not the batch or the feature axis)",
                          "attention_axes=" + axes_string(*attention_axes_));
      }
      if (std::find(axes.begin(), axes.end(), normalised) != axes.end()) {
        throw_value_error(source, "`attention_axes` names an axis twice", "distinct axes",
                          "attention_axes=" + axes_string(*attention_axes_));
      }
      axes.push_back(normalised);
    }
    if (axes.empty()) {
      throw_value_error(source, "`attention_axes` is empty", "at least one axis",
                        "attention_axes=()");
    }
  }

  add_projections(query_shape.back(), key_shape.back(), value_shape.back(),
                  output_shape_.value_or(Shape{query_shape.back()}));
  built_rank_ = rank;
  built_query_dim_ = query_shape.back();
  built_value_dim_ = value_shape.back();
  built_key_dim_ = key_shape.back();
  attention_axes_ = axes;
}

void MultiHeadAttention::check_call_shapes(const Tensor& query, const Tensor& value,
                                           const Tensor& key) const {
  const ErrorSource source = error_source();
  if (query.rank() != built_rank_ || value.rank() != built_rank_ || key.rank() != built_rank_ ||
      query.dim(-1) != built_query_dim_ || value.dim(-1) != built_value_dim_ ||
      key.dim(-1) != built_key_dim_) {
    throw_value_error(source, "input shapes do not match the shapes the layer was built for",
                      "rank-" + std::to_string(built_rank_) +
                          " inputs with last dimensions query " + std::to_string(built_query_dim_) +
                          ", value " + std::to_string(built_value_dim_) + ", key " +
                          std::to_string(built_key_dim_),
                      "query_shape=" + keras_shape(query.shape()) + ", value_shape=" +
                          keras_shape(value.shape()) + ", key_shape=" + keras_shape(key.shape()));
  }
  check_value_key(source, value.shape(), key.shape(), /*with_batch=*/true);
  // The batch axis and the axes outside attention_axes pair query rows with value rows.
  for (int64_t axis = 0; axis < built_rank_ - 1; ++axis) {
    const auto& axes = *attention_axes_;
    if (std::find(axes.begin(), axes.end(), axis) != axes.end()) continue;
    if (query.dim(axis) != value.dim(axis)) {
      throw_value_error(source,
                        "`query` and `value` must be equal on the batch axis and on every axis "
                        "outside attention_axes=" +
                            axes_string(axes) + " but the last",
                        "equal lengths on axis " + std::to_string(axis),
                        "query_shape=" + keras_shape(query.shape()) +
                            ", value_shape=" + keras_shape(value.shape()));
    }
  }
}

Shape MultiHeadAttention::compute_output_shape(const Shape& query_shape, const Shape& value_shape,
                                               std::optional<Shape> key_shape) const {
  check_value_key(error_source(), value_shape, key_shape.value_or(value_shape),
                  /*with_batch=*/false);
  if (!output_shape_) return query_shape;
  Shape shape(query_shape.begin(), query_shape.end() - 1);
  shape.insert(shape.end(), output_shape_->begin(), output_shape_->end());
  return shape;
}

void MultiHeadAttention::own_config(Config& config) const {
  config["num_heads"] = num_heads_;
  config["key_dim"] = key_dim_;
  config["value_dim"] = value_dim_;
  config["output_shape"] = output_shape_ ? detail::shape_to_json(*output_shape_) : Config();
  config["attention_axes"] = attention_axes_ ? detail::shape_to_json(*attention_axes_) : Config();
}

}  // namespace kattn
