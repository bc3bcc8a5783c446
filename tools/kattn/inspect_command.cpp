// kattn inspect: what a .keras file holds, as Keras's model.summary() shows it, and the
// model's inputs and outputs.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "kattn/models/model.hpp"
#include "models/text.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp = R"(usage: kattn inspect [--custom-layers LIB.so] MODEL.keras

Loads a model Keras saved and prints what Keras's model.summary() prints: one row per layer
with its class, output shape, parameter count and the layers it is connected to, then the
parameter totals. Then the model's inputs, by the names 'kattn predict --input' takes, and
its outputs, each with its shape (None: any length) and dtype. A Sequential model prints as
Keras prints one: its layers only, without connections. MODEL may also be a Keras 2 .h5 file
(model.save("model.h5") of tf.keras 2), read as Keras 3 reads it.

)";

// One table of (name, shape, dtype) rows under `title`, columns aligned.
void print_tensors(const std::string& title, const std::vector<std::string>& names,
                   const std::vector<KerasTensor>& tensors) {
  std::vector<std::string> shapes;
  size_t name_width = 0, shape_width = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    shapes.push_back(detail::python_shape(tensors[i].shape()));
    name_width = std::max(name_width, names[i].size());
    shape_width = std::max(shape_width, shapes[i].size());
  }
  std::cout << title << ":\n";
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::cout << " " << names[i] << std::string(name_width - names[i].size() + 3, ' ') << shapes[i]
              << std::string(shape_width - shapes[i].size() + 3, ' ')
              << dtype_name(tensors[i].dtype()) << "\n";
  }
}

}  // namespace

int run_inspect(const std::vector<std::string>& args) {
  const Arguments arguments(args, {"--custom-layers"}, {});
  if (arguments.wants_help()) {
    std::cout << kHelp << kCustomLayersHelp;
    return 0;
  }
  load_custom_layer_libraries(arguments);
  if (arguments.positionals().size() != 1) throw UsageError("expected one MODEL.keras");
  const Model model = load_model(arguments.positionals()[0]);
  std::cout << model.summary() << "\n";
  print_tensors("Inputs", model.input_names(), model.inputs());
  print_tensors("Outputs", model.output_names(), model.outputs());
  return 0;
}

}  // namespace kattn::cli
