#include "layers/detail/projected_attention_masks.hpp"

#include <algorithm>
#include <string>

namespace kattn::detail {

namespace {

size_t u(int64_t i) { return static_cast<size_t>(i); }

Shape without_last(const Shape& shape) { return Shape(shape.begin(), shape.end() - 1); }

// Keras's head-axis expansion: insert length-1 axes at -(2L + 1) until the mask has `rank`
// axes. Returns nullopt when Keras's expand_dims would fail (fewer than 2L axes) or the mask
// has more axes than the scores.
std::optional<Shape> expand_to_scores_rank(Shape shape, int64_t rank, int64_t num_attention_axes) {
  const int64_t tail = 2 * num_attention_axes;
  if (static_cast<int64_t>(shape.size()) > rank) return std::nullopt;
  while (static_cast<int64_t>(shape.size()) < rank) {
    if (static_cast<int64_t>(shape.size()) < tail) return std::nullopt;
    shape.insert(shape.end() - tail, 1);
  }
  return shape;
}

bool broadcasts_to(const Shape& shape, const Shape& target) {
  if (shape.size() != target.size()) return false;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] != 1 && shape[axis] != target[axis]) return false;
  }
  return true;
}

// A mask together with the shape it has once expanded to the scores' rank.
struct Expanded {
  const bool* data = nullptr;  // contiguous values, in the order of the original mask
  Shape shape;                 // rank of the scores, broadcastable to them
  Mask storage;                // owns `data` when the mask was built here
};

Expanded expanded(const Mask& mask, Shape shape) {
  Expanded e;
  e.storage = mask.contiguous();
  e.data = e.storage.data();
  e.shape = std::move(shape);
  return e;
}

// ANDs `mask` (broadcast) into `acc`; both have the scores' rank.
void and_into(Mask& acc, const Expanded& mask) {
  const int64_t rank = acc.rank();
  const Shape strides = contiguous_strides(mask.shape);
  Shape index(u(rank), 0);
  bool* out = acc.data();
  for (int64_t flat = 0; flat < acc.size(); ++flat) {
    int64_t offset = 0;
    for (int64_t axis = 0; axis < rank; ++axis) {
      if (mask.shape[u(axis)] != 1) offset += index[u(axis)] * strides[u(axis)];
    }
    out[flat] = out[flat] && mask.data[offset];
    for (int64_t axis = rank - 1; axis >= 0; --axis) {  // odometer over acc's shape
      if (++index[u(axis)] < acc.dim(axis)) break;
      index[u(axis)] = 0;
    }
  }
}

}  // namespace

ScoresLayout scores_layout(const Shape& query_shape, const Shape& key_shape, int64_t num_heads,
                           const std::vector<int64_t>& attention_axes) {
  ScoresLayout layout;
  const int64_t rank = static_cast<int64_t>(query_shape.size());
  layout.num_attention_axes = static_cast<int64_t>(attention_axes.size());
  layout.num_heads = num_heads;
  for (int64_t axis = 0; axis < rank - 1; ++axis) {
    if (std::find(attention_axes.begin(), attention_axes.end(), axis) != attention_axes.end()) {
      continue;
    }
    layout.shape.push_back(query_shape[u(axis)]);
    layout.batch *= query_shape[u(axis)];
  }
  layout.num_batch_axes = static_cast<int64_t>(layout.shape.size());
  layout.shape.push_back(num_heads);
  for (const int64_t axis : attention_axes) {
    layout.shape.push_back(query_shape[u(axis)]);
    layout.query_len *= query_shape[u(axis)];
  }
  for (const int64_t axis : attention_axes) {
    layout.shape.push_back(key_shape[u(axis)]);
    layout.key_len *= key_shape[u(axis)];
  }
  return layout;
}

std::optional<Mask> combine_attention_masks(ErrorSource source, const ScoresLayout& layout,
                                            const Shape& query_shape, const Shape& value_shape,
                                            const Shape& key_shape, const AttentionMasks& masks) {
  const int64_t rank = static_cast<int64_t>(layout.shape.size());
  const int64_t L = layout.num_attention_axes;
  std::vector<Expanded> parts;

  // An input's Keras mask covers every axis of the input but the last.
  const auto input_mask = [&](const Mask* mask, const char* name, const char* input,
                              const Shape& input_shape, int64_t expand_axis) {
    if (mask == nullptr) return;
    const Shape expected = without_last(input_shape);
    if (mask->shape() != expected) {
      throw_value_error(
          source, std::string("`") + name + "` does not match `" + input + "`",
          "a mask of shape " + shape_to_string(expected) + " (" + input + ".shape[:-1])",
          std::string(name) + ".shape=" + shape_to_string(mask->shape()));
    }
    // query mask -> (..., T, 1); value and key masks -> (..., 1, S)
    Shape shape = mask->shape();
    shape.insert(shape.end() + expand_axis + 1, 1);
    const std::optional<Shape> full = expand_to_scores_rank(shape, rank, L);
    if (!full || !broadcasts_to(*full, layout.shape)) {
      throw_value_error(source,
                        std::string("`") + name + "` does not broadcast to the attention scores",
                        "masks that Keras can broadcast to the scores of shape " +
                            shape_to_string(layout.shape) + " over these attention axes",
                        std::string(name) + ".shape=" + shape_to_string(mask->shape()));
    }
    parts.push_back(expanded(*mask, *full));
  };
  input_mask(masks.query_mask, "query_mask", "query", query_shape, -1);
  input_mask(masks.value_mask, "value_mask", "value", value_shape, -2);
  input_mask(masks.key_mask, "key_mask", "key", key_shape, -2);

  // Keras's _compute_causal_mask: (1, T, S) from axis 1 of query and value, row >= column.
  if (masks.causal || masks.sliding_window > 0) {
    const int64_t T = query_shape[1];
    const int64_t S = value_shape[1];
    Mask band({1, T, S});
    for (int64_t i = 0; i < T; ++i) {
      for (int64_t j = 0; j < S; ++j) {
        const bool causal_ok = !masks.causal || j <= i;
        const bool window_ok = masks.sliding_window <= 0 ||
                               (i - j < masks.sliding_window && j - i < masks.sliding_window);
        band(0, i, j) = causal_ok && window_ok;
      }
    }
    const std::optional<Shape> full = expand_to_scores_rank(band.shape(), rank, L);
    if (!full || !broadcasts_to(*full, layout.shape)) {
      throw_value_error(source,
                        std::string(masks.causal ? "use_causal_mask" : "sliding_window") +
                            " does not fit these attention axes: Keras builds its (1, T, S) "
                            "mask from axis 1 of query and value",
                        "attention over axis 1, or axes whose scores this mask broadcasts to (" +
                            shape_to_string(layout.shape) + ")",
                        "mask shape " + shape_to_string(band.shape()));
    }
    parts.push_back(expanded(band, *full));
  }

  if (masks.attention_mask != nullptr) {
    const Shape& shape = masks.attention_mask->shape();
    const std::optional<Shape> full = expand_to_scores_rank(shape, rank, L);
    if (!full || !broadcasts_to(*full, layout.shape)) {
      Shape without_heads = layout.shape;
      without_heads.erase(without_heads.begin() + layout.num_batch_axes);
      throw_value_error(source, "`attention_mask` does not broadcast to the attention scores",
                        "a mask broadcastable to " + shape_to_string(without_heads) +
                            " or, per head, to " + shape_to_string(layout.shape),
                        "attention_mask.shape=" + shape_to_string(shape));
    }
    parts.push_back(expanded(*masks.attention_mask, *full));
  }

  if (parts.empty()) return std::nullopt;

  // The combined mask keeps an axis group (batch axes, heads, query axes, key axes) broadcast
  // only when every mask broadcasts over the whole group, so that it flattens onto the frame.
  const int64_t P = layout.num_batch_axes;
  const int64_t groups[5] = {0, P, P + 1, P + 1 + L, rank};
  Shape combined(u(rank), 1);
  for (int64_t g = 0; g < 4; ++g) {
    bool full = false;
    for (const Expanded& part : parts) {
      for (int64_t axis = groups[g]; axis < groups[g + 1]; ++axis) {
        full = full || part.shape[u(axis)] != 1;
      }
    }
    for (int64_t axis = groups[g]; full && axis < groups[g + 1]; ++axis) {
      combined[u(axis)] = layout.shape[u(axis)];
    }
  }
  Mask mask = Mask::full(combined, true);
  for (const Expanded& part : parts) and_into(mask, part);
  // (batch axes..., N, query axes..., key axes...) -> (batch, N, query_len, key_len)
  Shape frame(4, 1);
  for (int64_t g = 0; g < 4; ++g) {
    for (int64_t axis = groups[g]; axis < groups[g + 1]; ++axis) frame[u(g)] *= combined[u(axis)];
  }
  return mask.reshape(frame);
}

}  // namespace kattn::detail
