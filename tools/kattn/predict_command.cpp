// kattn predict: runs a Keras-saved model on .npy inputs and writes its outputs as .npy files,
// and its attention scores as PNG heat maps when asked.
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
#include "kattn/io/heat_map.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/models/model.hpp"
#include "model_arrays.hpp"
#include "models/text.hpp"

namespace kattn::cli {

namespace {

// A file to write, and the line printed once it is written.
struct FileContent {
  std::filesystem::path path;
  std::string bytes;
  std::string description;
};

constexpr const char* kHelp =
    R"(usage: kattn predict MODEL.keras --input NAME=FILE.npy ... --output-dir DIR [--threads N]
                     [--attention-heat-maps DIR] [--custom-layers LIB.so]

Loads a model Keras saved, runs it in inference mode (Keras's model.predict) on the arrays
given, and writes every output to DIR (created when missing) as output_<i>_<name>.npy, in
output order: i is the output's index (0, 1, ...), name is Keras's model.output_names[i], the
name of the layer or keras.ops operation that produces it ('probs', 'add_3'; a layer with two
outputs gives its name to both, the index tells them apart), with every character other than
letters, digits, '.', '-' and '_' written as '_'. The outputs are written together or not at
all: each goes to a fresh temporary file beside its target first, and all are renamed into
place once complete, so runs writing into one DIR at once each leave a whole set. Prints one
line per file written, with the array's shape and dtype. MODEL may also be a Keras 2 .h5 file
(model.save("model.h5") of tf.keras 2), which runs as tf.keras 2 ran it.

  --input NAME=FILE.npy  the array for the model input NAME (its InputLayer's name, as
                         'kattn inspect' lists them); every input exactly once. float64
                         arrays are read as float32; int64 arrays are taken for int32 inputs
                         when every value fits int32. FILE must be a regular file.
  --output-dir DIR       where the outputs are written.
  --threads N            the number of threads, from 1 to the machine's hardware threads,
                         for the whole run: OpenBLAS's matrix products and kattn's own
                         kernels. Default: OpenBLAS's own choice for its products
                         (OPENBLAS_NUM_THREADS, else one per core), one per core for kattn's.
  --attention-heat-maps DIR
                         also draws the attention scores of every call of an attention layer
                         (Attention, AdditiveAttention, MultiHeadAttention,
                         GroupQueryAttention) as PNG heat maps in DIR (created when missing):
                         for Attention and AdditiveAttention, one per call and batch item,
                           attention_<k>_<layer>_batch<b>.png
                         for MultiHeadAttention and GroupQueryAttention, one per call, batch
                         item and query head,
                           attention_<k>_<layer>_batch<b>_head<h>.png
                         k numbers the model's attention calls in the order they run (0, 1,
                         ...), layer is the layer's name (its characters written as in output
                         names), b the batch item and h the head, from 0. A map has a
                         row per query position, top to bottom, and a column per key
                         position, left to right; a cell's gray is its weight, from black (0)
                         to white (1). Cells are 16 pixels wide, fewer (down to 1) where a side
                         would pass 2048 pixels. The scores are those the call returns with
                         return_attention_scores=True, fully masked query rows included; a
                         call with no query or no key position draws nothing. The heat maps
                         are written together with the outputs, all or none.

Exit status: 0 when the outputs were written; 2 for bad arguments, unreadable files, inputs
of the wrong name, dtype or shape, and attention scores of another shape than (batch, Tq, Tv)
or (batch, heads, Tq, Tv) with --attention-heat-maps.
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

// A heat map's cells: 16 pixels, fewer where a side would pass 2048 pixels.
int64_t heat_map_cell_size(int64_t rows, int64_t columns) {
  constexpr int64_t kCell = 16, kSide = 2048;
  return std::clamp(kSide / std::max(rows, columns), int64_t{1}, kCell);
}

// One PNG heat map per attention call, batch item and head, in DIR.
std::vector<FileContent> heat_maps(const std::vector<Model::AttentionScores>& calls,
                                   const std::filesystem::path& dir) {
  std::vector<FileContent> maps;
  for (size_t k = 0; k < calls.size(); ++k) {
    const Operation& layer = *calls[k].node->operation;
    const Tensor& scores = calls[k].scores;
    if (scores.rank() != 3 && scores.rank() != 4) {
      throw NotSupportedError(
          "--attention-heat-maps draws scores of shape (batch, Tq, Tv) or (batch, heads, Tq, "
          "Tv); " +
          layer.class_name() + " '" + layer.name() + "' returns scores of shape " +
          shape_to_string(scores.shape()));
    }
    const bool by_head = scores.rank() == 4;
    const int64_t batch = scores.dim(0), heads = by_head ? scores.dim(1) : 1;
    const int64_t rows = scores.dim(-2), columns = scores.dim(-1);
    if (rows == 0 || columns == 0) continue;
    const Tensor matrices = scores.reshape({batch * heads, rows, columns});
    const HeatMapOptions options{.cell_size = heat_map_cell_size(rows, columns)};
    // Built by appending: GCC 12's -Wrestrict misfires on "literal" + std::string.
    std::string prefix = "attention_";
    prefix.append(std::to_string(k)).append("_").append(file_name_part(layer.name()));
    const std::string size = std::to_string(columns * options.cell_size) + "x" +
                             std::to_string(rows * options.cell_size) + " PNG";
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t h = 0; h < heads; ++h) {
        std::string name = prefix;
        name.append("_batch").append(std::to_string(b));
        if (by_head) name.append("_head").append(std::to_string(h));
        name.append(".png");
        const Tensor weights =
            matrices.slice(0, b * heads + h, b * heads + h + 1).reshape({rows, columns});
        maps.push_back({dir / name, heat_map_png(weights, options),
                        shape_to_string({rows, columns}) + " attention scores, " + size});
      }
    }
  }
  return maps;
}

void create_folder(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw FileError("cannot create '" + dir.string() + "': " + error.message());
}

}  // namespace

int run_predict(const std::vector<std::string>& args) {
  const Arguments arguments(
      args, {"--input", "--output-dir", "--threads", "--attention-heat-maps", "--custom-layers"},
      {});
  if (arguments.wants_help()) {
    std::cout << kHelp << kCustomLayersHelp;
    return 0;
  }
  load_custom_layer_libraries(arguments);
  if (arguments.positionals().size() != 1) throw UsageError("expected one MODEL.keras");
  const std::filesystem::path output_dir = arguments.value("--output-dir").value_or("");
  if (output_dir.empty()) throw UsageError("--output-dir DIR is required");
  const std::optional<std::string> heat_map_dir = arguments.value("--attention-heat-maps");
  if (heat_map_dir && heat_map_dir->empty()) {
    throw UsageError("--attention-heat-maps expects a folder, received ''");
  }
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
  std::vector<AnyTensor> outputs;
  std::vector<Model::AttentionScores> attention_scores;
  if (heat_map_dir) {
    Model::ScoredPrediction prediction = model.predict_with_attention_scores(inputs);
    outputs = std::move(prediction.outputs);
    attention_scores = std::move(prediction.attention_scores);
  } else {
    outputs = model.predict(inputs);
  }
  // All outputs and heat maps are written together or not at all.
  std::vector<FileContent> files;
  for (size_t i = 0; i < outputs.size(); ++i) {
    files.push_back({output_dir / output_file_name(model, i),
                     std::visit([](const auto& array) { return to_npy_bytes(array); }, outputs[i]),
                     shape_to_string(shape_of(outputs[i])) + " " +
                         std::string(dtype_name(dtype_of(outputs[i])))});
  }
  if (heat_map_dir) {
    for (FileContent& map : heat_maps(attention_scores, *heat_map_dir)) {
      files.push_back(std::move(map));
    }
  }
  create_folder(output_dir);
  if (heat_map_dir) create_folder(*heat_map_dir);
  std::vector<FileToWrite> writes;
  for (const FileContent& file : files) writes.push_back({file.path, file.bytes});
  write_files_atomically(writes);
  for (const FileContent& file : files) {
    std::cout << file.path.string() << "  " << file.description << "\n";
  }
  return 0;
}

}  // namespace kattn::cli
