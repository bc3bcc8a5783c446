// kattn predict: runs a Keras-saved model on .npy inputs and writes its outputs as .npy files.
#include <cblas.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "command_line.hpp"
#include "kattn/core/context.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/file.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "model_arrays.hpp"
#include "models/text.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: kattn predict MODEL.keras --input NAME=FILE.npy ... --output-dir DIR [--threads N]

Loads a model Keras saved, runs it in inference mode (Keras's model.predict) on the arrays
given, and writes every output to DIR (created when missing) as output_<i>_<name>.npy, in
output order: i is the output's index (0, 1, ...), name is Keras's model.output_names[i], the
name of the layer or keras.ops operation that produces it ('probs', 'add_3'; a layer with two
outputs gives its name to both, the index tells them apart), with every character other than
letters, digits, '.', '-' and '_' written as '_'. The outputs are written together or not at
all: each goes to a fresh temporary file beside its target first, and all are renamed into
place once complete, so runs writing into one DIR at once each leave a whole set. Prints one
line per file written, with the array's shape and dtype.

  --input NAME=FILE.npy  the array for the model input NAME (its InputLayer's name, as
                         'kattn inspect' lists them); every input exactly once. float64
                         arrays are read as float32; int64 arrays are taken for int32 inputs
                         when every value fits int32. FILE must be a regular file.
  --output-dir DIR       where the outputs are written.
  --threads N            the number of threads, from 1 to the machine's hardware threads,
                         for the whole run: OpenBLAS's matrix products and kattn's own
                         kernels. Default: OpenBLAS's own choice for its products
                         (OPENBLAS_NUM_THREADS, else one per core), one per core for kattn's.

Exit status: 0 when the outputs were written; 2 for bad arguments, unreadable files, inputs
of the wrong name, dtype or shape.
)";

int parse_threads(const std::string& text) {
  const int64_t most = hardware_threads();
  int threads = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), threads);
  if (error != std::errc() || end != text.data() + text.size() || threads < 1 || threads > most) {
    throw UsageError("--threads expects an integer from 1 to " + std::to_string(most) +
                     " (this machine's hardware threads), received '" + text + "'");
  }
  return threads;
}

// The file given for each model input, in input order; every input exactly once by name.
std::vector<std::string> input_files(const std::vector<std::string>& specs,
                                     const std::vector<std::string>& names) {
  const std::string expected = "; the model's inputs are " + detail::join(names);
  std::map<std::string, std::string> files;
  for (const std::string& spec : specs) {
    const size_t equals = spec.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError("--input expects NAME=FILE.npy, received '" + spec + "'");
    }
    const std::string name = spec.substr(0, equals);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw UsageError("unknown input '" + name + "'" + expected);
    }
    if (!files.emplace(name, spec.substr(equals + 1)).second) {
      throw UsageError("input '" + name + "' given more than once");
    }
  }
  std::vector<std::string> missing, ordered;
  for (const std::string& name : names) {
    const auto it = files.find(name);
    if (it == files.end()) {
      missing.push_back("'" + name + "'");
    } else {
      ordered.push_back(it->second);
    }
  }
  if (!missing.empty()) {
    throw UsageError((missing.size() == 1 ? "missing input " : "missing inputs ") +
                     detail::join(missing) + expected);
  }
  return ordered;
}

}  // namespace

int run_predict(const std::vector<std::string>& args) {
  const Arguments arguments(args, {"--input", "--output-dir", "--threads"}, {});
  if (arguments.wants_help()) {
    std::cout << kHelp;
    return 0;
  }
  if (arguments.positionals().size() != 1) throw UsageError("expected one MODEL.keras");
  const std::filesystem::path output_dir = arguments.value("--output-dir").value_or("");
  if (output_dir.empty()) throw UsageError("--output-dir DIR is required");
  if (const std::optional<std::string> threads = arguments.value("--threads")) {
    const int count = parse_threads(*threads);
    openblas_set_num_threads(count);
    set_num_threads(count);
  }

  const Model model = load_model(arguments.positionals()[0]);
  const std::vector<std::string> input_paths =
      input_files(arguments.values("--input"), model.input_names());
  std::vector<AnyTensor> inputs;
  for (size_t i = 0; i < input_paths.size(); ++i) {
    inputs.push_back(read_model_input(model, i, input_paths[i]));
  }
  const std::vector<AnyTensor> outputs = model.predict(inputs);

  std::error_code error;
  std::filesystem::create_directories(output_dir, error);
  if (error) {
    throw FileError("cannot create '" + output_dir.string() + "': " + error.message());
  }
  // All outputs are written together or not at all.
  std::vector<std::string> contents;
  for (const AnyTensor& output : outputs) {
    contents.push_back(std::visit([](const auto& array) { return to_npy_bytes(array); }, output));
  }
  std::vector<FileToWrite> files;
  for (size_t i = 0; i < outputs.size(); ++i) {
    files.push_back({output_dir / output_file_name(model, i), contents[i]});
  }
  write_files_atomically(files);
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::cout << files[i].path.string() << "  " << shape_to_string(shape_of(outputs[i])) << " "
              << dtype_name(dtype_of(outputs[i])) << "\n";
  }
  return 0;
}

}  // namespace kattn::cli
