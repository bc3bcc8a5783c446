// The registry of custom layers (kattn/models/custom_layers.hpp) and the libraries that fill it.
#include "kattn/models/custom_layers.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>

#include "kattn/core/error.hpp"

namespace kattn {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, CustomLayerFactory, std::less<>> factories;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::string registered_name_of(const Config& entry) {
  const Config name = entry.is_object() ? entry.value("registered_name", Config()) : Config();
  return name.is_string() ? name.get<std::string>() : std::string();
}

}  // namespace

void register_custom_layer(const std::string& registered_name, CustomLayerFactory factory) {
  if (registered_name.find('>') == std::string::npos || registered_name.front() == '>' ||
      registered_name.back() == '>') {
    throw_value_error({"register_custom_layer", registered_name}, "invalid registered name",
                      "\"package>ClassName\", as register_keras_serializable writes it",
                      "'" + registered_name + "'");
  }
  if (!factory) {
    throw_value_error({"register_custom_layer", registered_name}, "no factory",
                      "a function making the layer from its config", "an empty function");
  }
  Registry& all = registry();
  const std::lock_guard lock(all.mutex);
  all.factories[registered_name] = std::move(factory);
}

std::vector<std::string> registered_custom_layers() {
  Registry& all = registry();
  const std::lock_guard lock(all.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : all.factories) names.push_back(name);
  return names;
}

void load_custom_layers(const std::filesystem::path& library) {
  // dlopen looks a name without a slash up in the library path: name it as a file.
  const std::filesystem::path file =
      library.has_parent_path() ? library : std::filesystem::path(".") / library;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw FileError("custom layer library '" + library.string() +
                    "': cannot be loaded. Expected a shared library built against kattn. "
                    "Received: " +
                    (why != nullptr ? why : "an unknown error") + ".");
  }
  auto* register_layers = reinterpret_cast<void (*)()>(dlsym(handle, kRegisterCustomLayersSymbol));
  if (register_layers == nullptr) {
    throw FileError("custom layer library '" + library.string() + "': no function " +
                    kRegisterCustomLayersSymbol + ". Expected extern \"C\" void " +
                    kRegisterCustomLayersSymbol +
                    "() registering its layers. Received: a library without it.");
  }
  register_layers();
}

namespace detail {

std::shared_ptr<Operation> custom_layer_from_config(const Config& entry) {
  const std::string name = registered_name_of(entry);
  CustomLayerFactory factory;
  {
    Registry& all = registry();
    const std::lock_guard lock(all.mutex);
    const auto found = all.factories.find(name);
    if (found == all.factories.end()) return nullptr;
    factory = found->second;
  }
  return factory(entry.value("config", Config::object()));
}

bool is_registered_custom_layer(const Config& entry) {
  const std::string name = registered_name_of(entry);
  Registry& all = registry();
  const std::lock_guard lock(all.mutex);
  return !name.empty() && all.factories.count(name) != 0;
}

}  // namespace detail

}  // namespace kattn
