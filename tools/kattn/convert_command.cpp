// kattn convert: a Keras 2 `.h5` model as the `.keras` file Keras 3 would save after loading it.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "kattn/models/model.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp = R"(usage: kattn convert [--custom-layers LIB.so] MODEL.h5 OUTPUT.keras

Reads a model file (a Keras 2 / tf.keras 2 .h5 file, or a .keras file) and writes it as a
Keras 3 .keras file: the config Keras 3's load_model of the .h5 gives (arguments Keras 3
renamed, TFOpLambda nodes as the keras.ops operations they compute) and the same weights.
The model keeps the Keras release of the file it came from in metadata.json, so that kattn
computes with the converted file what tf.keras 2 computed. The training configuration of a
.h5 file is not converted: the .keras file is not compiled. OUTPUT.keras is written whole or
not at all (through a temporary file beside it); it may not be MODEL itself.

)";

}  // namespace

int run_convert(const std::vector<std::string>& args) {
  const Arguments arguments(args, {"--custom-layers"}, {});
  if (arguments.wants_help()) {
    std::cout << kHelp << kCustomLayersHelp;
    return 0;
  }
  load_custom_layer_libraries(arguments);
  if (arguments.positionals().size() != 2) throw UsageError("expected MODEL.h5 OUTPUT.keras");
  const std::filesystem::path input = arguments.positionals()[0];
  const std::filesystem::path output = arguments.positionals()[1];
  if (output.extension() != ".keras") {
    throw UsageError("OUTPUT must end in .keras, as Keras 3 requires; got '" + output.string() +
                     "'");
  }
  std::error_code error;
  if (std::filesystem::equivalent(input, output, error)) {
    throw UsageError("OUTPUT '" + output.string() + "' is the input file itself");
  }
  const Model model = load_model(input);
  save_model(model, output);
  std::cout << "wrote " << output.string() << ": "
            << (model.is_sequential() ? "Sequential" : "Functional") << " '" << model.name()
            << "', " << model.count_params() << " parameters\n";
  return 0;
}

}  // namespace kattn::cli
