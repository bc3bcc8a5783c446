// The kattn command's verbs and a small argument reader shared by them.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace kattn::cli {

// A mistake in the command line: printed with the verb's usage, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Splits a verb's arguments into positionals, valued options (--name VALUE or --name=VALUE) and
// flags (--name); refuses options the verb does not know.
class Arguments {
 public:
  Arguments(const std::vector<std::string>& args, const std::set<std::string>& valued_options,
            const std::set<std::string>& flags);

  const std::vector<std::string>& positionals() const { return positionals_; }
  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  // Every value given for a valued option, in order (options may repeat).
  std::vector<std::string> values(const std::string& name) const;
  // The value of an option that may be given once, if given; UsageError when it is repeated.
  std::optional<std::string> value(const std::string& name) const;
  bool wants_help() const { return flag("--help"); }

 private:
  std::vector<std::string> positionals_;
  std::set<std::string> flags_;
  std::multimap<std::string, std::string> values_;
};

// Loads every library given as --custom-layers LIB.so (kattn::load_custom_layers), so that
// models with the custom layers they register load.
void load_custom_layer_libraries(const Arguments& arguments);
// The help text of --custom-layers, for the verbs that take it.
inline constexpr const char* kCustomLayersHelp =
    R"(  --custom-layers LIB.so  a shared library registering custom layers (its
                          kattn_register_custom_layers(): kattn/models/custom_layers.hpp);
                          models with those classes then load. May be repeated.
)";

// Each verb: its arguments after the verb name; returns the exit status.
int run_verify(const std::vector<std::string>& args);
int run_demo(const std::vector<std::string>& args);
int run_inspect(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_convert(const std::vector<std::string>& args);

}  // namespace kattn::cli
