#include "models/operation_registry.hpp"

#include <algorithm>

#include "models/text.hpp"

namespace kattn::detail {

namespace {

const std::vector<OperationEntry>& entries() {
  static const std::vector<OperationEntry> all = [] {
    std::vector<OperationEntry> list;
    for (auto family : {input_layer_operation_entries, attention_operation_entries,
                        core_operation_entries, convolution_pooling_operation_entries,
                        merging_operation_entries, numpy_operation_entries}) {
      for (OperationEntry& entry : family()) list.push_back(std::move(entry));
    }
    return list;
  }();
  return all;
}

std::string supported_list() { return join(supported_class_names()); }

}  // namespace

std::vector<std::string> supported_class_names() {
  std::vector<std::string> names;
  for (const OperationEntry& entry : entries()) names.push_back(entry.class_name);
  std::sort(names.begin(), names.end());
  return names;
}

std::shared_ptr<Operation> operation_from_config(const Config& entry) {
  const std::string class_name = config_string(entry, "class_name");
  for (const OperationEntry& candidate : entries()) {
    if (candidate.class_name == class_name) return candidate.from_config(config_member(entry, "config"));
  }
  throw NotSupportedError(error_message(
      {class_name, config_layer_name(entry)}, "unsupported layer class",
      "one of the supported classes: " + supported_list(), "class_name=" + class_name));
}

std::shared_ptr<Operation> operation_for_layer(const std::shared_ptr<Layer>& layer) {
  for (const OperationEntry& entry : entries()) {
    if (entry.class_name != layer->class_name()) continue;
    if (std::shared_ptr<Operation> operation = entry.wrap(layer)) return operation;
  }
  throw NotSupportedError(error_message(
      {layer->class_name(), layer->name()}, "this layer class cannot be placed in a model",
      "one of the supported classes: " + supported_list(), "class_name=" + layer->class_name()));
}

}  // namespace kattn::detail
