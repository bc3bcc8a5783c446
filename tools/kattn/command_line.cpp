#include "command_line.hpp"

#include "kattn/models/custom_layers.hpp"

namespace kattn::cli {

Arguments::Arguments(const std::vector<std::string>& args,
                     const std::set<std::string>& valued_options,
                     const std::set<std::string>& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positionals_.push_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    if (arg == "--help" || flags.count(arg) != 0) {
      flags_.insert(arg);
    } else if (valued_options.count(name) != 0) {
      if (equals != std::string::npos) {
        values_.emplace(name, arg.substr(equals + 1));
      } else if (i + 1 < args.size()) {
        values_.emplace(name, args[++i]);
      } else {
        throw UsageError("option " + name + " needs a value");
      }
    } else {
      throw UsageError("unknown option " + arg);
    }
  }
}

std::vector<std::string> Arguments::values(const std::string& name) const {
  std::vector<std::string> found;
  const auto [begin, end] = values_.equal_range(name);
  for (auto it = begin; it != end; ++it) found.push_back(it->second);
  return found;
}

std::optional<std::string> Arguments::value(const std::string& name) const {
  const std::vector<std::string> found = values(name);
  if (found.size() > 1) throw UsageError(name + " given more than once");
  if (found.empty()) return std::nullopt;
  return found[0];
}

void load_custom_layer_libraries(const Arguments& arguments) {
  for (const std::string& library : arguments.values("--custom-layers")) {
    load_custom_layers(library);
  }
}

}  // namespace kattn::cli
