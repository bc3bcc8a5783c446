// model.weights.h5 for functional models: Keras's saving_lib lays out one group per element of
// model.layers, named after the snake-cased PYTHON class with _1, _2, ... for repeats.
#include <map>
#include <set>
#include <string_view>

#include "kattn/models/legacy_h5.hpp"
#include "kattn/models/model.hpp"
#include "models/model_layout.hpp"
#include "models/training_setup.hpp"

namespace kattn {

namespace detail {

std::vector<LayerGroup> layer_groups(const std::vector<std::shared_ptr<Operation>>& operations,
                                     bool sequential) {
  std::vector<LayerGroup> groups;
  std::map<std::string, int64_t> seen;
  for (const std::shared_ptr<Operation>& operation : operations) {
    if (!operation->is_layer() || (sequential && operation->is_input())) continue;
    const std::string base = layer_snake_name(operation->class_name());
    const int64_t count = seen[base]++;
    groups.push_back(
        {operation, "layers/" + (count == 0 ? base : base + "_" + std::to_string(count))});
  }
  return groups;
}

}  // namespace detail

WeightStore Model::weight_store() const {
  WeightStore store;
  store.add_group("vars", name_);
  store.add_group("layers");
  for (const detail::LayerGroup& group : detail::layer_groups(operations_, sequential_)) {
    store.add_group(group.path);
    const WeightLayout layout = group.operation->weight_layout();
    for (const auto& [path, attribute] : layout.groups) {
      // Sub-layer groups (query_dense, _softmax, ...) hold their own `vars`.
      for (size_t slash = path.find('/'); slash != std::string::npos;
           slash = path.find('/', slash + 1)) {
        store.add_group(group.path + "/" + path.substr(0, slash));
      }
      store.add_group(group.path + "/" + path, attribute);
    }
    if (const Layer* layer = group.operation->layer()) {
      for (size_t i = 0; i < layout.datasets.size(); ++i) {
        store.set(group.path + "/" + layout.datasets[i], layer->weights()[i].value.clone());
      }
    }
  }
  if (training_ != nullptr) {
    detail::write_optimizer_variables(*training_->optimizer, store);
  } else {
    // A loaded file's optimizer state that no compile took up goes back as it came.
    store.merge(saved_optimizer_variables_);
  }
  return store;
}

namespace {

// Keras's saving_lib keeps the optimizer's variables under this group, beside `layers`.
constexpr std::string_view kOptimizerGroup = "optimizer";

}  // namespace

void Model::load_weights(const WeightStore& store) {
  WeightStore optimizer = store.under(kOptimizerGroup);
  std::set<std::string, std::less<>> used;
  for (const detail::LayerGroup& group : detail::layer_groups(operations_, sequential_)) {
    Layer* layer = group.operation->layer();
    if (layer == nullptr) continue;
    const WeightLayout layout = group.operation->weight_layout();
    for (size_t i = 0; i < layout.datasets.size(); ++i) {
      const std::string path = group.path + "/" + layout.datasets[i];
      const Variable& variable = layer->weights()[i];
      const Tensor* value = store.find(path);
      if (value == nullptr) {
        throw FileError("weights: dataset '" + path + "' for weight '" +
                        layer->weight_path(variable) + "' is missing");
      }
      if (value->shape() != variable.value.shape()) {
        throw FileError("weights: dataset '" + path + "' has shape " +
                        shape_to_string(value->shape()) + ", expected " +
                        shape_to_string(variable.value.shape()) + " for weight '" +
                        layer->weight_path(variable) + "'");
      }
      used.insert(path);
    }
  }
  for (const auto& [path, value] : store.integer_datasets()) {
    if (optimizer.find_integer(path) == nullptr) {
      throw FileError("weights: dataset '" + path +
                      "' holds integers and belongs to no weight of "
                      "model '" +
                      name_ + "'");
    }
  }
  for (const auto& [path, value] : store.datasets()) {
    if (used.count(path) == 0 && optimizer.find(path) == nullptr) {
      throw FileError("weights: dataset '" + path + "' belongs to no weight of model '" + name_ +
                      "'");
    }
  }
  // The optimizer's state: restored now into a compiled model's optimizer (as Keras's
  // load_weights does), else kept for compile_from_config and for saving.
  if (training_ != nullptr && optimizer.has_datasets()) {
    detail::build_optimizer(*training_);
    detail::read_optimizer_variables(*training_->optimizer, optimizer);
  } else if (training_ == nullptr) {
    saved_optimizer_variables_ = std::move(optimizer);
  }
  for (const detail::LayerGroup& group : detail::layer_groups(operations_, sequential_)) {
    std::map<std::string, std::string> names;
    for (const auto& [path, attribute] : group.operation->weight_layout().groups) {
      if (const std::optional<std::string> stored = store.group_name(group.path + "/" + path)) {
        names.emplace(path, *stored);
      }
    }
    group.operation->adopt_group_names(names);
    Layer* layer = group.operation->layer();
    if (layer == nullptr) continue;
    const WeightLayout layout = group.operation->weight_layout();
    for (size_t i = 0; i < layout.datasets.size(); ++i) {
      layer->set_weight(layer->weights()[i].name, store.at(group.path + "/" + layout.datasets[i]));
    }
  }
}

void Model::load_weights(const std::filesystem::path& path) {
  // Opened and vetted once, whichever layout it has.
  const Hdf5File file = Hdf5File::open(path);
  if (is_legacy_h5_weights(file)) {
    load_legacy_h5_weights(*this, file);
    return;
  }
  const WeightStore store = read_weight_store(file);
  try {
    load_weights(store);
  } catch (const FileError& e) {
    throw FileError("weights file '" + path.string() +
                    "': " + std::string(e.what()).substr(std::string("weights: ").size()));
  }
}

void Model::save_weights(const std::filesystem::path& path) const {
  save_weights_h5(path, weight_store());
}

int64_t Model::count_params() const {
  int64_t total = 0;
  for (const std::shared_ptr<Operation>& operation : operations_) {
    if (const Layer* layer = operation->layer()) {
      for (const Variable& variable : layer->weights()) total += variable.value.size();
    }
  }
  return total;
}

}  // namespace kattn
