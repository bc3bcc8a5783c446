// keras.layers.Dot.
#include "kattn/layers/dot.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "layers/detail/projected_attention_args.hpp"

namespace kattn {

namespace {

using detail::keras_shape;

// x with `axis` moved to the end (numpy.moveaxis(x, axis, -1)), contiguous.
Tensor move_axis_last(const Tensor& x, int64_t axis) {
  Tensor view = x;
  for (int64_t a = axis; a + 1 < x.rank(); ++a) view = view.transpose(a, a + 1);
  return view.contiguous();
}

// The inverse: the last axis moved back to `axis`, contiguous.
Tensor move_last_axis_to(const Tensor& x, int64_t axis) {
  Tensor view = x;
  for (int64_t a = x.rank() - 1; a > axis; --a) view = view.transpose(a - 1, a);
  return view.contiguous();
}

// x (rows, K) divided row by row by its L2 norm (a zero norm counts as 1), in float32 as numpy
// computes np.linalg.norm; `norms` receives the norms used.
Tensor l2_normalized(const Tensor& x, int64_t length, std::vector<float>& norms) {
  Tensor y = x.clone();
  const int64_t rows = length > 0 ? y.size() / length : 0;
  norms.assign(static_cast<size_t>(rows), 1.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y.data() + r * length;
    float squares = 0.0f;
    for (int64_t k = 0; k < length; ++k) squares += row[k] * row[k];
    const float norm = std::sqrt(squares);
    norms[static_cast<size_t>(r)] = norm == 0.0f ? 1.0f : norm;
    for (int64_t k = 0; k < length; ++k) row[k] /= norms[static_cast<size_t>(r)];
  }
  return y;
}

// The backward of l2_normalized: d x = (d y - y * sum(d y * y)) / norm per row, or d y itself
// where the norm was zero (the division by 1 is all there is).
Tensor l2_normalized_backward(const Tensor& y, const Tensor& d_y, int64_t length,
                              const std::vector<float>& norms, const Tensor& x) {
  Tensor d = d_y.clone();
  for (size_t r = 0; r < norms.size(); ++r) {
    const int64_t base = static_cast<int64_t>(r) * length;
    bool zero = true;
    for (int64_t k = 0; k < length; ++k) zero = zero && x.data()[base + k] == 0.0f;
    if (zero) continue;
    double dot = 0.0;
    for (int64_t k = 0; k < length; ++k) dot += double(d.data()[base + k]) * y.data()[base + k];
    for (int64_t k = 0; k < length; ++k) {
      d.data()[base + k] =
          static_cast<float>((d.data()[base + k] - y.data()[base + k] * dot) / norms[r]);
    }
  }
  return d;
}

// The two inputs with their dot axes last, as matrices: x (B, M, K), y (B, N, K).
struct Operands {
  Tensor x, y;
  int64_t batch = 0, m = 0, n = 0, k = 0;
  std::vector<float> x_norms, y_norms;
  Tensor x_raw, y_raw;  // before normalisation (for its backward)
};

Operands operands(const Tensor& x, const Tensor& y, std::array<int64_t, 2> axes, bool normalize) {
  Operands op;
  op.x_raw = move_axis_last(x, axes[0]);
  op.y_raw = move_axis_last(y, axes[1]);
  op.batch = x.dim(0);
  op.k = x.dim(axes[0]);
  op.m = op.batch * op.k > 0 ? x.size() / (op.batch * op.k) : 0;
  op.n = op.batch * op.k > 0 ? y.size() / (op.batch * op.k) : 0;
  op.x = normalize ? l2_normalized(op.x_raw, op.k, op.x_norms) : op.x_raw;
  op.y = normalize ? l2_normalized(op.y_raw, op.k, op.y_norms) : op.y_raw;
  return op;
}

}  // namespace

Dot::Dot(Args args)
    : Merge("Dot", LayerArgs{std::move(args.name), args.trainable}),
      axes_(std::move(args.axes)),
      normalize_(args.normalize) {
  if (!axes_.is_int && axes_.values.size() != 2) {
    throw_value_error(error_source(),
                      "Invalid format for argument `axes`: it should contain two elements",
                      "an int or a list of two ints", "axes=" + axes_.to_string());
  }
}

std::unique_ptr<Dot> Dot::from_config(const Config& config) {
  ConfigReader reader(config, {"Dot", config_layer_name(config)});
  Args args;
  read_base_args(reader, args);
  if (!reader.has("axes")) reader.fail("axes", "an int or a list of two ints");
  args.axes = IntOrList::read(reader, "axes", -1);
  args.normalize = reader.get_bool("normalize", false);
  reader.check_all_read();
  return std::make_unique<Dot>(std::move(args));
}

std::array<int64_t, 2> Dot::resolved_axes(int64_t x_rank, int64_t y_rank) const {
  const std::array<int64_t, 2> ranks{x_rank, y_rank};
  std::array<int64_t, 2> axes{};
  for (size_t i = 0; i < 2; ++i) {
    const int64_t axis = axes_.is_int ? axes_.values[0] : axes_.values[i];
    axes[i] = axis < 0 ? axis + ranks[i] : axis;
    if (axes[i] <= 0 || axes[i] >= ranks[i]) {
      throw_value_error(
          error_source(),
          axes[i] == 0 ? "Cannot perform batch_dot over axis 0"
                       : "axes are out of range for the inputs",
          "an axis in [1, " + std::to_string(ranks[i] - 1) + "] of input " + std::to_string(i),
          "axes=" + axes_.to_string() + " for inputs of ranks " + std::to_string(x_rank) + " and " +
              std::to_string(y_rank));
    }
  }
  return axes;
}

Shape Dot::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != 2) {
    throw_value_error(error_source(), "A `Dot` layer should be called on a list of 2 inputs",
                      "2 inputs", std::to_string(input_shapes.size()) + " inputs");
  }
  const Shape& x = input_shapes[0];
  const Shape& y = input_shapes[1];
  if (x.size() < 2 || y.size() < 2) {
    throw_value_error(error_source(), "Cannot do batch_dot on inputs with rank < 2",
                      "inputs of rank >= 2", "shapes " + keras_shape(x) + " and " + keras_shape(y));
  }
  if (x[0] >= 0 && y[0] >= 0 && x[0] != y[0]) {
    throw_value_error(error_source(), "Cannot do batch_dot on inputs with different batch sizes",
                      "equal batch sizes", "shapes " + keras_shape(x) + " and " + keras_shape(y));
  }
  const auto [a0, a1] =
      resolved_axes(static_cast<int64_t>(x.size()), static_cast<int64_t>(y.size()));
  const int64_t d0 = x[static_cast<size_t>(a0)], d1 = y[static_cast<size_t>(a1)];
  if (d0 >= 0 && d1 >= 0 && d0 != d1) {
    throw_value_error(error_source(), "Incompatible input shapes", "equal sizes on the dot axes",
                      "axis values " + std::to_string(d0) + " (at axis " + std::to_string(a0) +
                          ") != " + std::to_string(d1) + " (at axis " + std::to_string(a1) +
                          "). Full input shapes: " + keras_shape(x) + ", " + keras_shape(y));
  }
  Shape output{x[0] >= 0 ? x[0] : y[0]};
  for (size_t a = 1; a < x.size(); ++a) {
    if (static_cast<int64_t>(a) != a0) output.push_back(x[a]);
  }
  for (size_t a = 1; a < y.size(); ++a) {
    if (static_cast<int64_t>(a) != a1) output.push_back(y[a]);
  }
  if (output.size() == 1) output.push_back(1);
  return output;
}

std::optional<Mask> Dot::compute_mask(const std::vector<Tensor>& inputs,
                                      const std::vector<std::optional<Mask>>& masks) const {
  if (!masks.empty()) check_mask_count(inputs, masks);
  return std::nullopt;
}

Tensor Dot::merge_function(const std::vector<Tensor>& inputs, const Shape& output_shape) const {
  const auto axes = resolved_axes(inputs[0].rank(), inputs[1].rank());
  const Operands op = operands(inputs[0], inputs[1], axes, normalize_);
  Tensor output(output_shape);
  for (int64_t b = 0; b < op.batch; ++b) {
    for (int64_t i = 0; i < op.m; ++i) {
      const float* xr = op.x.data() + (b * op.m + i) * op.k;
      for (int64_t j = 0; j < op.n; ++j) {
        const float* yr = op.y.data() + (b * op.n + j) * op.k;
        double sum = 0.0;
        for (int64_t k = 0; k < op.k; ++k) sum += double(xr[k]) * yr[k];
        output.data()[(b * op.m + i) * op.n + j] = static_cast<float>(sum);
      }
    }
  }
  return output;
}

std::vector<Tensor> Dot::merge_backward(const std::vector<Tensor>& inputs,
                                        const Shape& /*output_shape*/,
                                        const Tensor& d_output) const {
  // out[b, i, j] = sum_k x[b, i, k] y[b, j, k]: d x[b, i, k] = sum_j d[b, i, j] y[b, j, k],
  // d y[b, j, k] = sum_i d[b, i, j] x[b, i, k].
  const auto axes = resolved_axes(inputs[0].rank(), inputs[1].rank());
  const Operands op = operands(inputs[0], inputs[1], axes, normalize_);
  const Tensor d = d_output.contiguous();
  Tensor d_x(op.x.shape()), d_y(op.y.shape());
  for (int64_t b = 0; b < op.batch; ++b) {
    for (int64_t i = 0; i < op.m; ++i) {
      float* dxr = d_x.data() + (b * op.m + i) * op.k;
      const float* xr = op.x.data() + (b * op.m + i) * op.k;
      for (int64_t j = 0; j < op.n; ++j) {
        const float g = d.data()[(b * op.m + i) * op.n + j];
        float* dyr = d_y.data() + (b * op.n + j) * op.k;
        const float* yr = op.y.data() + (b * op.n + j) * op.k;
        for (int64_t k = 0; k < op.k; ++k) {
          dxr[k] += g * yr[k];
          dyr[k] += g * xr[k];
        }
      }
    }
  }
  if (normalize_) {
    d_x = l2_normalized_backward(op.x, d_x, op.k, op.x_norms, op.x_raw);
    d_y = l2_normalized_backward(op.y, d_y, op.k, op.y_norms, op.y_raw);
  }
  // Back from (..., K) with the dot axis last to the inputs' layouts.
  Shape x_moved = inputs[0].shape(), y_moved = inputs[1].shape();
  x_moved.erase(x_moved.begin() + axes[0]);
  x_moved.push_back(op.k);
  y_moved.erase(y_moved.begin() + axes[1]);
  y_moved.push_back(op.k);
  return {move_last_axis_to(d_x.reshape(x_moved), axes[0]),
          move_last_axis_to(d_y.reshape(y_moved), axes[1])};
}

Config Dot::get_config() const {
  Config config = Layer::get_config();
  config["axes"] = axes_.to_json();
  config["normalize"] = normalize_;
  return config;
}

}  // namespace kattn
