// .keras files for functional models: config.json through Model::from_config / to_config,
// model.weights.h5 through the weight layout, metadata.json as Keras writes it.
#include "kattn/io/keras_archive.hpp"
#include "kattn/models/model.hpp"
#include "weight_budget.hpp"

namespace kattn {

Model load_model(const std::filesystem::path& path) {
  KerasArchive archive = load_keras_archive(path);
  const std::string member = "zip archive '" + path.string() + "': member ";
  std::optional<Model> model;
  try {
    // The layers may create no more weight values than model.weights.h5 holds.
    int64_t held = 0;
    for (const auto& [dataset, value] : archive.weights.datasets()) held += value.size();
    const detail::WeightBudget budget(held);
    model.emplace(Model::from_config(archive.config));
  } catch (const NotSupportedError& e) {
    throw NotSupportedError(member + "'config.json': " + e.what());
  } catch (const Error& e) {
    throw FileError(member + "'config.json': " + e.what());
  }
  try {
    model->load_weights(archive.weights);
  } catch (const FileError& e) {
    throw FileError(member + "'model.weights.h5': " +
                    std::string(e.what()).substr(std::string("weights: ").size()));
  }
  const Config compile_config = archive.config.value("compile_config", Config(nullptr));
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
  archive.config = model.to_config();
  archive.weights = model.weight_store();
  save_keras_archive(path, archive);
}

}  // namespace kattn
