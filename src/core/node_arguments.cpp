#include "kattn/core/node_arguments.hpp"

#include "kattn/core/keras_tensor.hpp"
#include "kattn/core/value.hpp"

namespace kattn {

namespace {

template <typename Leaf>
void flatten_into(const NodeArg<Leaf>& arg, std::vector<Leaf>& out) {
  if (const Leaf* tensor = std::get_if<Leaf>(&arg.value)) {
    out.push_back(*tensor);
  } else if (const auto* list = std::get_if<std::vector<NodeArg<Leaf>>>(&arg.value)) {
    for (const NodeArg<Leaf>& item : *list) flatten_into(item, out);
  }
}

template <typename Leaf>
std::string describe(const NodeArg<Leaf>* arg) {
  if (arg == nullptr) return "missing";
  if (arg->is_tensor()) return "a tensor";
  if (arg->is_list()) return "a list";
  return std::get<Config>(arg->value).dump();
}

std::string joined(std::span<const std::string> names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

template <typename Leaf>
NodeArg<Leaf>::NodeArg() : value(Config(nullptr)) {}

template <typename Leaf>
NodeArg<Leaf> NodeArg<Leaf>::literal(Config literal_value) {
  NodeArg arg;
  arg.value = std::move(literal_value);
  return arg;
}

template <typename Leaf>
NodeArg<Leaf> NodeArg<Leaf>::tensor(Leaf tensor_value) {
  NodeArg arg;
  arg.value = std::move(tensor_value);
  return arg;
}

template <typename Leaf>
NodeArg<Leaf> NodeArg<Leaf>::list(List items) {
  NodeArg arg;
  arg.value = std::move(items);
  return arg;
}

template <typename Leaf>
std::vector<Leaf> flatten_tensors(const NodeArguments<Leaf>& arguments) {
  std::vector<Leaf> out;
  for (const NodeArg<Leaf>& arg : arguments.args) flatten_into(arg, out);
  // std::map iterates keys in sorted order, as tree.flatten orders a dict.
  for (const auto& [name, arg] : arguments.kwargs) flatten_into(arg, out);
  return out;
}

template <typename Leaf>
BoundArguments<Leaf>::BoundArguments(const NodeArguments<Leaf>& arguments,
                                     std::span<const std::string> parameters, ErrorSource source)
    : source_(source) {
  if (arguments.args.size() > parameters.size()) {
    throw_value_error(
        source_, "too many positional arguments in a call",
        "at most " + std::to_string(parameters.size()) + " (" + joined(parameters) + ")",
        std::to_string(arguments.args.size()) + " positional arguments");
  }
  for (size_t i = 0; i < arguments.args.size(); ++i) {
    bound_.emplace(parameters[i], &arguments.args[i]);
  }
  for (const auto& [name, arg] : arguments.kwargs) {
    bool known = false;
    for (const std::string& parameter : parameters) known = known || parameter == name;
    if (!known) {
      throw NotSupportedError(error_message(source_, "unsupported call argument",
                                            "one of: " + joined(parameters),
                                            name + "=" + describe(&arg)));
    }
    if (!bound_.emplace(name, &arg).second) {
      throw_value_error(source_, "call argument given twice",
                        "each argument once, by position or by keyword",
                        name + "=" + describe(&arg));
    }
  }
}

template <typename Leaf>
const NodeArg<Leaf>* BoundArguments<Leaf>::find(std::string_view name) const {
  const auto it = bound_.find(name);
  return it == bound_.end() ? nullptr : it->second;
}

template <typename Leaf>
bool BoundArguments<Leaf>::given(std::string_view name) const {
  const NodeArg<Leaf>* arg = find(name);
  return arg != nullptr && !arg->is_null();
}

template <typename Leaf>
void BoundArguments<Leaf>::fail(std::string_view name, std::string_view expected,
                                const NodeArg<Leaf>* received) const {
  throw_value_error(source_, "invalid call argument `" + std::string(name) + "`", expected,
                    std::string(name) + "=" + describe(received));
}

template <typename Leaf>
const Leaf& BoundArguments<Leaf>::tensor(std::string_view name) const {
  const NodeArg<Leaf>* arg = find(name);
  if (arg == nullptr || !arg->is_tensor()) fail(name, "a tensor", arg);
  return std::get<Leaf>(arg->value);
}

template <typename Leaf>
std::optional<Leaf> BoundArguments<Leaf>::optional_tensor(std::string_view name) const {
  const NodeArg<Leaf>* arg = find(name);
  if (arg == nullptr || arg->is_null()) return std::nullopt;
  if (!arg->is_tensor()) fail(name, "a tensor or None", arg);
  return std::get<Leaf>(arg->value);
}

template <typename Leaf>
std::vector<std::optional<Leaf>> BoundArguments<Leaf>::tensor_list(std::string_view name) const {
  const NodeArg<Leaf>* arg = find(name);
  if (arg == nullptr || arg->is_null()) return {};
  if (arg->is_tensor()) return {std::get<Leaf>(arg->value)};
  if (!arg->is_list()) fail(name, "a tensor or a list of tensors", arg);
  std::vector<std::optional<Leaf>> tensors;
  for (const NodeArg<Leaf>& item : std::get<std::vector<NodeArg<Leaf>>>(arg->value)) {
    if (item.is_null()) {
      tensors.emplace_back(std::nullopt);
    } else if (item.is_tensor()) {
      tensors.emplace_back(std::get<Leaf>(item.value));
    } else {
      fail(name, "a list of tensors (or None)", arg);
    }
  }
  return tensors;
}

template <typename Leaf>
bool BoundArguments<Leaf>::flag(std::string_view name, bool fallback) const {
  const NodeArg<Leaf>* arg = find(name);
  if (arg == nullptr || arg->is_null()) return fallback;
  const Config* literal = std::get_if<Config>(&arg->value);
  if (literal == nullptr || !literal->is_boolean()) fail(name, "True or False", arg);
  return literal->get<bool>();
}

template struct NodeArg<KerasTensor>;
template struct NodeArg<ValuePtr>;
template std::vector<KerasTensor> flatten_tensors(const NodeArguments<KerasTensor>&);
template std::vector<ValuePtr> flatten_tensors(const NodeArguments<ValuePtr>&);
template class BoundArguments<KerasTensor>;
template class BoundArguments<ValuePtr>;

}  // namespace kattn
