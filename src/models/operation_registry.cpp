#include "models/operation_registry.hpp"

#include <algorithm>

#include "models/text.hpp"

namespace kattn::detail {

namespace {

const std::vector<OperationEntry>& entries() {
  static const std::vector<OperationEntry> all = [] {
    std::vector<OperationEntry> list;
    for (auto family :
         {input_layer_operation_entries, attention_operation_entries, core_operation_entries,
          convolution_pooling_operation_entries, merging_operation_entries, numpy_operation_entries,
          arithmetic_operation_entries}) {
      for (OperationEntry& entry : family()) list.push_back(std::move(entry));
    }
    return list;
  }();
  return all;
}

}  // namespace

std::vector<std::string> supported_class_names(const std::optional<std::string>& module) {
  std::vector<std::string> names;
  for (const OperationEntry& entry : entries()) {
    if (!module || entry.module == *module) names.push_back(entry.class_name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string supported_classes_text() {
  std::vector<std::string> ops;
  for (const OperationEntry& entry : entries()) {
    if (entry.module != kLayersModule) ops.push_back(entry.class_name);
  }
  std::sort(ops.begin(), ops.end());
  return "the supported classes: " + join(supported_class_names(kLayersModule)) +
         "; keras.ops: " + join(ops);
}

std::string config_module(const Config& entry) {
  const Config module =
      entry.is_object() ? entry.value("module", Config(kLayersModule)) : Config(kLayersModule);
  return module.is_string() ? module.get<std::string>() : std::string();
}

bool is_supported(const std::string& class_name, const std::string& module) {
  return std::any_of(entries().begin(), entries().end(), [&](const OperationEntry& entry) {
    return entry.class_name == class_name && entry.module == module;
  });
}

std::shared_ptr<Operation> operation_from_config(const Config& entry) {
  const std::string class_name = config_string(entry, "class_name");
  const std::string module = config_module(entry);
  for (const OperationEntry& candidate : entries()) {
    if (candidate.class_name == class_name && candidate.module == module) {
      return candidate.from_config(config_member(entry, "config"));
    }
  }
  throw NotSupportedError(error_message({class_name, config_layer_name(entry)},
                                        "unsupported class " + class_name + " of module " + module,
                                        "one of " + supported_classes_text(),
                                        "class_name=" + class_name));
}

std::shared_ptr<Operation> operation_for_layer(const std::shared_ptr<Layer>& layer) {
  for (const OperationEntry& entry : entries()) {
    if (entry.class_name != layer->class_name()) continue;
    if (std::shared_ptr<Operation> operation = entry.wrap(layer)) return operation;
  }
  throw NotSupportedError(error_message(
      {layer->class_name(), layer->name()}, "this layer class cannot be placed in a model",
      "one of " + supported_classes_text(), "class_name=" + layer->class_name()));
}

}  // namespace kattn::detail
