// The arguments of one call of an operation in a model graph, as Keras records them in
// config.json (`inbound_nodes`: {"args": [...], "kwargs": {...}}): nested lists of tensors and
// plain literals. The same structure carries symbolic tensors while a model is built
// (Leaf = KerasTensor) and concrete ones while it runs (Leaf = ValuePtr).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"

namespace kattn {

template <typename Leaf>
struct NodeArg {
  using List = std::vector<NodeArg>;

  // A null literal.
  NodeArg();
  // A literal (null, a boolean, a number, a string).
  static NodeArg literal(Config value);
  static NodeArg tensor(Leaf value);
  static NodeArg list(List items);

  bool is_null() const {
    const Config* literal = std::get_if<Config>(&value);
    return literal != nullptr && literal->is_null();
  }
  bool is_tensor() const { return std::holds_alternative<Leaf>(value); }
  bool is_list() const { return std::holds_alternative<List>(value); }

  std::variant<Config, Leaf, List> value;
};

template <typename Leaf>
struct NodeArguments {
  std::vector<NodeArg<Leaf>> args;
  std::map<std::string, NodeArg<Leaf>, std::less<>> kwargs;
};

// Every tensor of `arguments` in Keras's order (tree.flatten of (args, kwargs): positional
// arguments first, then keyword arguments sorted by name, lists depth first).
template <typename Leaf>
std::vector<Leaf> flatten_tensors(const NodeArguments<Leaf>& arguments);

// A node's arguments bound to the parameter names of Keras's `call` signature, as Python binds
// them: positional arguments fill the parameters in order, keywords by name.
template <typename Leaf>
class BoundArguments {
 public:
  // ValueError naming the parameter when there are more positional arguments than
  // parameters, a keyword Keras's call does not take, or a parameter given twice.
  BoundArguments(const NodeArguments<Leaf>& arguments, std::span<const std::string> parameters,
                 ErrorSource source);

  // The argument bound to `name`, or nullptr when it was not given.
  const NodeArg<Leaf>* find(std::string_view name) const;
  // True when `name` was given and is not null.
  bool given(std::string_view name) const;

  // The tensor bound to `name`; ValueError when it is missing or not a tensor.
  const Leaf& tensor(std::string_view name) const;
  // The tensor bound to `name`, or nullopt when it is absent or null.
  std::optional<Leaf> optional_tensor(std::string_view name) const;
  // A list of tensors (null entries allowed) bound to `name`; a single tensor is a list of one.
  // An absent or null argument gives an empty list.
  std::vector<std::optional<Leaf>> tensor_list(std::string_view name) const;
  // A boolean literal bound to `name`, or `fallback` when it is absent or null.
  bool flag(std::string_view name, bool fallback) const;

  ErrorSource source() const { return source_; }

 private:
  [[noreturn]] void fail(std::string_view name, std::string_view expected,
                         const NodeArg<Leaf>* received) const;

  std::map<std::string, const NodeArg<Leaf>*, std::less<>> bound_;
  ErrorSource source_;
};

}  // namespace kattn
