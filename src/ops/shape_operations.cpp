#include "ops/shape_operations.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "core/node_inputs.hpp"
#include "core/strided.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

using keras_ops::Ellipsis;
using keras_ops::NewAxis;
using keras_ops::Slice;

const std::vector<std::string> kUnaryParameters{"x"};

// A strided view of a tensor's data: the elements at offset + sum(index[a] * strides[a]).
struct View {
  int64_t offset = 0;
  Shape shape;
  Shape strides;
};

// The view's elements, in row-major order, as a new tensor of `shape`.
template <typename T>
BasicTensor<T> gather(const BasicTensor<T>& x, const View& view, const Shape& shape) {
  BasicTensor<T> out(shape);
  T* dst = out.data();
  const T* src = x.data() + view.offset;
  for_each_offset(view.shape, view.strides, [&](int64_t offset) { *dst++ = src[offset]; });
  return out;
}

// The backward of gather: `d` (the view's elements in row-major order) placed into zeros of
// x's shape; a view never visits an element twice.
Tensor scatter(const Tensor& d, const View& view, const Shape& x_shape) {
  Tensor out(x_shape);
  const Tensor dy = d.contiguous();
  const float* src = dy.data();
  float* dst = out.data() + view.offset;
  for_each_offset(view.shape, view.strides, [&](int64_t offset) { dst[offset] = *src++; });
  return out;
}

AnyTensor gather_any(const AnyTensor& x, const View& view, const Shape& shape) {
  return std::visit([&](const auto& t) { return AnyTensor(gather(t, view, shape)); }, x);
}

// The float32 input's gradient: the output's gradient (view order) scattered back; none for
// other dtypes or when no gradient reached the output.
ValueGradients moved_back(const ValuePtr& x, const BackwardPass& pass, const View& view) {
  const Tensor* d = output_gradient(pass.d_outputs, 0);
  if (d == nullptr || dtype_of(x->tensor) != DType::kFloat32) return {};
  return {{x, scatter(*d, view, shape_of(x->tensor))}};
}

// A shape op: how the output's elements are read from the input's (a View over a contiguous
// input) and the output's shape, for concrete shapes; and the symbolic output shape.
class ShapeOp : public KerasOp {
 public:
  using KerasOp::KerasOp;
  const std::vector<std::string>& call_parameters() const override { return kUnaryParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    return {KerasTensor(output_shape(x.shape(), true), x.dtype())};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor x = contiguous(arguments.tensor("x")->tensor);
    const Shape in = shape_of(x);
    return {make_value(gather_any(x, view(in), output_shape(in, false)))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    return moved_back(x, pass, view(shape_of(x->tensor)));
  }

 protected:
  // The output's shape for an input of `shape` (-1 sizes: unknown, in `symbolic` calls).
  virtual Shape output_shape(const Shape& shape, bool symbolic) const = 0;
  // The view of a contiguous input of (known) `shape` that gives the output's elements.
  virtual View view(const Shape& shape) const = 0;

 private:
  static AnyTensor contiguous(const AnyTensor& x) {
    return std::visit([](const auto& t) { return AnyTensor(t.contiguous()); }, x);
  }
};

// A view reading a contiguous tensor of `shape` in another row-major shape (Reshape, Squeeze).
View same_order(const Shape& shape) { return {0, {num_elements(shape)}, {1}}; }

// ---- Transpose

class Transpose : public ShapeOp {
 public:
  Transpose(std::string name, AxisArgument axes)
      : ShapeOp("Transpose", kNumpyOps, std::move(name)), axes_(std::move(axes)) {}
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axes"] = axes_.to_config();
    return config;
  }

 protected:
  Shape output_shape(const Shape& shape, bool) const override { return permuted(shape); }
  View view(const Shape& shape) const override {
    const Shape strides = contiguous_strides(shape);
    View v;
    for (const int64_t axis : order(static_cast<int64_t>(shape.size()))) {
      v.shape.push_back(shape[static_cast<size_t>(axis)]);
      v.strides.push_back(strides[static_cast<size_t>(axis)]);
    }
    return v;
  }

 private:
  // numpy.transpose's axes: the given permutation, or the axes reversed.
  std::vector<int64_t> order(int64_t rank) const {
    if (!axes_.axes) {
      std::vector<int64_t> reversed(static_cast<size_t>(rank));
      std::iota(reversed.rbegin(), reversed.rend(), 0);
      return reversed;
    }
    std::vector<int64_t> axes = axes_.resolve(rank, source());
    if (static_cast<int64_t>(axes.size()) != rank) {
      throw_value_error(source(), "axes don't match array",
                        "a permutation of the " + std::to_string(rank) + " axes",
                        "axes=" + axes_.to_config().dump());
    }
    return axes;
  }
  Shape permuted(const Shape& shape) const {
    Shape out;
    for (const int64_t axis : order(static_cast<int64_t>(shape.size()))) {
      out.push_back(shape[static_cast<size_t>(axis)]);
    }
    return out;
  }

  AxisArgument axes_;
};

// ---- Reshape

class ReshapeOp : public ShapeOp {
 public:
  ReshapeOp(std::string name, Shape newshape)
      : ShapeOp("Reshape", kNumpyOps, std::move(name)), newshape_(std::move(newshape)) {
    if (std::count(newshape_.begin(), newshape_.end(), -1) > 1) {
      throw_value_error(source(), "can only specify one unknown dimension",
                        "at most one -1 in newshape", "newshape=" + newshape_string());
    }
  }
  Config get_config() const override {
    Config config = KerasOp::get_config();
    Config shape = Config::array();
    for (const int64_t dim : newshape_) shape.push_back(dim);
    config["newshape"] = shape;
    return config;
  }

 protected:
  Shape output_shape(const Shape& shape, bool symbolic) const override {
    // An unknown input size leaves newshape's -1 unknown (None).
    if (symbolic && std::find(shape.begin(), shape.end(), -1) != shape.end()) return newshape_;
    return resolved(shape);
  }
  View view(const Shape& shape) const override { return same_order(shape); }

 private:
  // As numpy prints it: -1 stays -1.
  std::string newshape_string() const {
    std::string text;
    for (const int64_t dim : newshape_) text += (text.empty() ? "" : ", ") + std::to_string(dim);
    return "(" + text + (newshape_.size() == 1 ? ",)" : ")");
  }

  Shape resolved(const Shape& shape) const {
    const int64_t size = num_elements(shape);
    int64_t known = 1;
    for (const int64_t dim : newshape_) known *= dim == -1 ? 1 : dim;
    Shape out = newshape_;
    for (int64_t& dim : out) {
      if (dim == -1) dim = known > 0 && size % known == 0 ? size / known : -1;
    }
    if (num_elements(out) != size || std::find(out.begin(), out.end(), -1) != out.end()) {
      throw_value_error(source(),
                        "cannot reshape array of size " + std::to_string(size) + " into shape " +
                            newshape_string(),
                        "a newshape of " + std::to_string(size) + " elements",
                        "x of shape " + shape_to_string(shape));
    }
    return out;
  }

  Shape newshape_;
};

// ---- Squeeze

class Squeeze : public ShapeOp {
 public:
  Squeeze(std::string name, AxisArgument axis)
      : ShapeOp("Squeeze", kNumpyOps, std::move(name)), axis_(std::move(axis)) {}
  Config get_config() const override {
    Config config = KerasOp::get_config();
    config["axis"] = axis_.to_config();
    return config;
  }

 protected:
  Shape output_shape(const Shape& shape, bool) const override { return squeezed(shape); }
  View view(const Shape& shape) const override { return same_order(shape); }

 private:
  // Without `axis`, every axis of length 1 goes; a given axis must have length 1 (or be unknown
  // in a symbolic call).
  Shape squeezed(const Shape& shape) const {
    const auto rank = static_cast<int64_t>(shape.size());
    std::vector<int64_t> axes;
    if (axis_.axes) {
      axes = axis_.resolve(rank, source());
      for (const int64_t axis : axes) {
        const int64_t dim = shape[static_cast<size_t>(axis)];
        if (dim != 1 && dim != -1) {
          throw_value_error(
              source(), "cannot select an axis to squeeze out which has size not equal to one",
              "axes of length 1",
              "axis=" + axis_.to_config().dump() + " for x of shape " + shape_to_string(shape));
        }
      }
    } else {
      for (int64_t axis = 0; axis < rank; ++axis) {
        if (shape[static_cast<size_t>(axis)] == 1) axes.push_back(axis);
      }
    }
    Shape out;
    for (int64_t axis = 0; axis < rank; ++axis) {
      if (std::find(axes.begin(), axes.end(), axis) == axes.end()) {
        out.push_back(shape[static_cast<size_t>(axis)]);
      }
    }
    return out;
  }

  AxisArgument axis_;
};

// ---- GetItem

// Python's slice.indices(length): the first index, the step and the number of elements.
struct Range {
  int64_t start = 0, step = 1, count = 0;
};

Range slice_range(const Slice& slice, int64_t length) {
  const int64_t step = slice.step.value_or(1);
  const auto clamp = [&](int64_t index, int64_t low, int64_t high) {
    if (index < 0) index += length;
    return std::clamp(index, low, high);
  };
  Range range{0, step, 0};
  if (step > 0) {
    range.start = slice.start ? clamp(*slice.start, 0, length) : 0;
    const int64_t stop = slice.stop ? clamp(*slice.stop, 0, length) : length;
    range.count = std::max<int64_t>(0, (stop - range.start + step - 1) / step);
  } else {
    range.start = slice.start ? clamp(*slice.start, -1, length - 1) : length - 1;
    const int64_t stop = slice.stop ? clamp(*slice.stop, -1, length - 1) : -1;
    range.count = std::max<int64_t>(0, (range.start - stop - step - 1) / -step);
  }
  return range;
}

std::string key_string(const std::vector<KeyItem>& key) {
  std::string text;
  const auto bound = [](const std::optional<int64_t>& b) { return b ? std::to_string(*b) : ""; };
  for (const KeyItem& item : key) {
    if (!text.empty()) text += ", ";
    if (const auto* index = std::get_if<int64_t>(&item)) {
      text += std::to_string(*index);
    } else if (const auto* slice = std::get_if<Slice>(&item)) {
      text += bound(slice->start) + ":" + bound(slice->stop) +
              (slice->step ? ":" + std::to_string(*slice->step) : "");
    } else if (std::holds_alternative<NewAxis>(item)) {
      text += "None";
    } else {
      text += "...";
    }
  }
  return "[" + text + "]";
}

Config key_config(const std::vector<KeyItem>& key) {
  const auto bound = [](const std::optional<int64_t>& b) { return b ? Config(*b) : Config(); };
  Config list = Config::array();
  for (const KeyItem& item : key) {
    if (const auto* index = std::get_if<int64_t>(&item)) {
      list.push_back(*index);
    } else if (const auto* slice = std::get_if<Slice>(&item)) {
      list.push_back({{"class_name", "__slice__"},
                      {"config",
                       {{"start", bound(slice->start)},
                        {"stop", bound(slice->stop)},
                        {"step", bound(slice->step)}}}});
    } else if (std::holds_alternative<NewAxis>(item)) {
      list.push_back(nullptr);
    } else {
      list.push_back({{"class_name", "__ellipsis__"}, {"config", Config::object()}});
    }
  }
  return list;
}

class GetItem : public KerasOp {
 public:
  explicit GetItem(std::string name) : KerasOp("GetItem", kNumpyOps, std::move(name)) {}
  const std::vector<std::string>& call_parameters() const override { return kParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& x = arguments.tensor("x");
    return {KerasTensor(plan(x.shape(), key(arguments)).output_shape, x.dtype())};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const AnyTensor x = std::visit([](const auto& t) { return AnyTensor(t.contiguous()); },
                                   arguments.tensor("x")->tensor);
    const Plan p = plan(shape_of(x), key(arguments));
    return {make_value(gather_any(x, p.view, p.output_shape))};
  }

  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x = arguments.tensor("x");
    return moved_back(x, pass, plan(shape_of(x->tensor), key(arguments)).view);
  }

 private:
  inline static const std::vector<std::string> kParameters{"x", "key"};

  struct Plan {
    View view;
    Shape output_shape;
  };

  // The key of a node: a list of ints, slices, nulls and an Ellipsis, or one of them alone.
  template <typename Leaf>
  std::vector<KeyItem> key(const BoundArguments<Leaf>& arguments) const {
    const NodeArg<Leaf>* arg = arguments.find("key");
    if (arg == nullptr) {
      throw_value_error(source(), "missing call argument `key`", "an index, slice or list",
                        "no key");
    }
    std::vector<KeyItem> items;
    if (const auto* list = std::get_if<typename NodeArg<Leaf>::List>(&arg->value)) {
      for (const NodeArg<Leaf>& item : *list) items.push_back(key_item(item));
    } else {
      items.push_back(key_item(*arg));
    }
    return items;
  }

  template <typename Leaf>
  KeyItem key_item(const NodeArg<Leaf>& arg) const {
    const Config* literal = std::get_if<Config>(&arg.value);
    if (literal == nullptr) {
      throw NotSupportedError(error_message(source(), "unsupported index in `key`",
                                            "ints, slices, None and Ellipsis",
                                            arg.is_tensor() ? "a tensor" : "a nested list"));
    }
    return key_item(*literal);
  }

  KeyItem key_item(const Config& item) const {
    if (item.is_null()) return NewAxis{};
    if (item.is_number_integer()) return item.get<int64_t>();
    const auto bound = [&](const Config& config, const char* name) -> std::optional<int64_t> {
      const Config value = config.value(name, Config());
      if (value.is_null()) return std::nullopt;
      if (!value.is_number_integer()) unsupported(item);
      return value.get<int64_t>();
    };
    if (item.is_object() && item.value("class_name", Config()) == "__slice__") {
      const Config config = item.value("config", Config::object());
      Slice slice{bound(config, "start"), bound(config, "stop"), bound(config, "step")};
      if (slice.step && *slice.step == 0) {
        throw_value_error(source(), "slice step cannot be zero", "a non-zero step",
                          "key entry " + item.dump());
      }
      return slice;
    }
    if (item.is_object() && item.value("class_name", Config()) == "__ellipsis__") return Ellipsis{};
    unsupported(item);
  }

  [[noreturn]] void unsupported(const Config& item) const {
    throw NotSupportedError(error_message(source(), "unsupported index in `key`",
                                          "ints, slices of ints, None and Ellipsis",
                                          "key entry " + item.dump()));
  }

  // numpy's basic indexing of a contiguous tensor of `shape` (-1 sizes: symbolic calls).
  Plan plan(const Shape& shape, std::vector<KeyItem> key) const {
    const std::string given =
        "key=" + key_string(key) + " for x of shape " + shape_to_string(shape);
    const auto is_ellipsis = [](const KeyItem& item) {
      return std::holds_alternative<Ellipsis>(item);
    };
    const auto ellipses = std::count_if(key.begin(), key.end(), is_ellipsis);
    if (ellipses > 1) {
      throw_value_error(source(), "Slice should only have one ellipsis", "at most one Ellipsis",
                        given);
    }
    const auto consuming =
        static_cast<int64_t>(std::count_if(key.begin(), key.end(), [](const KeyItem& item) {
          return std::holds_alternative<int64_t>(item) || std::holds_alternative<Slice>(item);
        }));
    const auto rank = static_cast<int64_t>(shape.size());
    if (consuming > rank) {
      throw_value_error(source(), "too many indices for the array",
                        "at most " + std::to_string(rank) + " indices", given);
    }
    // The Ellipsis (implicitly at the end) stands for full slices of the remaining axes.
    auto at = std::find_if(key.begin(), key.end(), is_ellipsis);
    if (at == key.end()) at = key.insert(key.end(), Ellipsis{});
    at = key.erase(at);
    key.insert(at, static_cast<size_t>(rank - consuming), Slice{});

    const Shape strides = contiguous_strides(shape);
    Plan p;
    size_t axis = 0;
    for (const KeyItem& item : key) {
      if (std::holds_alternative<NewAxis>(item)) {
        p.view.shape.push_back(1);
        p.view.strides.push_back(0);
        p.output_shape.push_back(1);
        continue;
      }
      const int64_t length = shape[axis];
      const int64_t stride = strides[axis];
      if (const auto* index = std::get_if<int64_t>(&item)) {
        const int64_t resolved = *index < 0 ? *index + length : *index;
        if (length >= 0 && (resolved < 0 || resolved >= length)) {
          throw_value_error(source(), "index out of bounds",
                            "an index in [" + std::to_string(-length) + ", " +
                                std::to_string(length) + ") on axis " + std::to_string(axis),
                            given);
        }
        p.view.offset += resolved * stride;
      } else if (length < 0) {
        p.output_shape.push_back(-1);
      } else {
        const Range range = slice_range(std::get<Slice>(item), length);
        p.view.offset += range.start * stride;
        p.view.shape.push_back(range.count);
        p.view.strides.push_back(range.step * stride);
        p.output_shape.push_back(range.count);
      }
      ++axis;
    }
    return p;
  }
};

OperationEntry axis_entry(const std::string& class_name, const std::string& key) {
  return OperationEntry{
      class_name, kNumpyOps, [class_name, key](const Config& config) -> std::shared_ptr<Operation> {
        AxisArgument axis;
        const std::string name = read_op_config(config, class_name, [&](ConfigReader& reader) {
          axis = AxisArgument::read(reader, key);
        });
        if (class_name == "Transpose") return std::make_shared<Transpose>(name, axis);
        return std::make_shared<Squeeze>(name, axis);
      }};
}

OperationEntry reshape_entry() {
  return OperationEntry{
      "Reshape", kNumpyOps, [](const Config& config) -> std::shared_ptr<Operation> {
        Shape newshape;
        const std::string name = read_op_config(config, "Reshape", [&](ConfigReader& reader) {
          const Config shape = reader.get("newshape", nullptr);
          if (shape.is_number_integer()) {
            newshape = {shape.get<int64_t>()};
            return;
          }
          if (!shape.is_array()) reader.fail("newshape", "an int or a list of ints");
          for (const Config& dim : shape) {
            if (!dim.is_number_integer() || dim.get<int64_t>() < -1) {
              reader.fail("newshape", "a list of sizes (-1 for one unknown size)");
            }
            newshape.push_back(dim.get<int64_t>());
          }
        });
        return std::make_shared<ReshapeOp>(name, newshape);
      }};
}

AxisArgument axis_argument(std::optional<std::vector<int64_t>> axes) {
  return {std::move(axes), false};
}

}  // namespace

KerasTensor symbolic_transpose(const KerasTensor& x, std::optional<std::vector<int64_t>> axes) {
  return unary_output(
      std::make_shared<Transpose>(unique_name("transpose"), axis_argument(std::move(axes))), x);
}

KerasTensor symbolic_reshape(const KerasTensor& x, const Shape& newshape) {
  return unary_output(std::make_shared<ReshapeOp>(unique_name("reshape"), newshape), x);
}

KerasTensor symbolic_squeeze(const KerasTensor& x, std::optional<std::vector<int64_t>> axis) {
  AxisArgument argument = axis_argument(std::move(axis));
  argument.is_int = argument.axes && argument.axes->size() == 1;
  return unary_output(std::make_shared<Squeeze>(unique_name("squeeze"), argument), x);
}

KerasTensor symbolic_get_item(const KerasTensor& x, const std::vector<KeyItem>& key) {
  NodeArguments<KerasTensor> args;
  std::vector<NodeArg<KerasTensor>> items;
  for (const Config& item : key_config(key)) items.push_back(NodeArg<KerasTensor>::literal(item));
  args.args = {NodeArg<KerasTensor>::tensor(x), NodeArg<KerasTensor>::list(std::move(items))};
  return single_output(std::make_shared<GetItem>(unique_name("get_item")), std::move(args));
}

std::vector<OperationEntry> shape_operation_entries() {
  return {axis_entry("Transpose", "axes"), reshape_entry(), axis_entry("Squeeze", "axis"),
          op_entry<GetItem>("GetItem", kNumpyOps)};
}

}  // namespace kattn::detail
