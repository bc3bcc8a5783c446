// .keras files for functional models: config.json through Model::from_config / to_config,
// model.weights.h5 through the weight layout, metadata.json as Keras writes it.
#include "core/weight_budget.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/models/legacy_h5.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

namespace {

// The most bytes model.weights.h5 may take for `model`: its weights as float32 with up to three
// optimizer slots each (Adam with amsgrad keeps three), and HDF5's own structures, about a
// kilobyte per group and dataset. A file claiming more is refused before it is inflated.
size_t weights_file_budget(const Model& model) {
  constexpr size_t kSlots = 3;
  constexpr size_t kStructureBytes = size_t{16} << 10;
  constexpr size_t kFixedBytes = size_t{1} << 20;
  size_t values = 0;
  size_t weights = 0;
  for (const std::shared_ptr<Operation>& operation : model.operations()) {
    if (const Layer* layer = operation->layer()) {
      for (const Variable& variable : layer->weights()) {
        values += static_cast<size_t>(variable.value.size());
        ++weights;
      }
    }
  }
  return values * sizeof(float) * (1 + kSlots) +
         (weights + model.operations().size()) * kStructureBytes + kFixedBytes;
}

// The Keras release metadata.json names (3.16.0 when it names none).
KerasVersion saved_by(const Config& metadata) {
  const Config version =
      metadata.is_object() ? metadata.value("keras_version", Config()) : Config();
  return version.is_string() ? KerasVersion::parse(version.get<std::string>()) : kKerasVersion;
}

}  // namespace

Model load_model(const std::filesystem::path& path) {
  if (is_hdf5_file(path)) return load_legacy_h5_model(path);
  return load_model(KerasArchiveReader::open(path));
}

Model load_model(const KerasArchiveReader& archive) {
  std::optional<Model> model;
  try {
    // The layers may create no more weight values than model.weights.h5 can hold, and create
    // them as zeros: their values are loaded next.
    const detail::WeightBudget budget(
        static_cast<int64_t>(archive.weights_bytes() / sizeof(float)));
    model.emplace(Model::from_config(archive.config(), saved_by(archive.metadata())));
  } catch (const NotSupportedError& e) {
    throw NotSupportedError(archive.member_what("config.json") + ": " + e.what());
  } catch (const Error& e) {
    throw FileError(archive.member_what("config.json") + ": " + e.what());
  }
  {
    const WeightStore weights = archive.read_weights(
        weights_file_budget(*model), "that the weights of the model config.json describes take");
    try {
      model->load_weights(weights);
    } catch (const FileError& e) {
      throw FileError(archive.member_what("model.weights.h5") + ": " +
                      std::string(e.what()).substr(std::string("weights: ").size()));
    }
  }
  const Config compile_config = archive.config().value("compile_config", Config(nullptr));
  if (compile_config.is_object() && !compile_config.empty()) {
    // Keras compiles a model saved compiled. What kattn cannot compile (an optimizer, loss or
    // metric it does not have) stays as the file gave it: prediction works, and training
    // reports the reason by name.
    model->saved_compile_config_ = compile_config;
    try {
      model->compile_from_config(compile_config);
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch): kept pending, reported by fit
    }
  }
  return std::move(*model);
}

void save_model(const Model& model, const std::filesystem::path& path) {
  KerasArchive archive;
  archive.metadata = Config{{"keras_version", model.keras_version().to_string()}};
  archive.config = model.to_config();
  archive.weights = model.weight_store();
  save_keras_archive(path, archive);
}

}  // namespace kattn
