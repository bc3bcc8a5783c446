// NestedModel: a Functional or Sequential model as a layer (kattn/models/nested_model.hpp).
#include "kattn/models/nested_model.hpp"

#include "models/model_layout.hpp"

namespace kattn {

namespace {

// The model's groups as saving_lib nests them: each layer's under layers/<class>_N, the
// InputLayers' (weightless, not Layers) as plain groups.
GraphLayer::Graph layout_of(const Model& model) {
  GraphLayer::Graph layout;
  for (const detail::LayerGroup& group :
       detail::layer_groups(model.operations(), model.is_sequential())) {
    if (auto layer = std::dynamic_pointer_cast<Layer>(group.operation)) {
      layout.sublayers.emplace_back(group.path, std::move(layer));
    } else {
      for (const auto& [path, name] : group.operation->weight_layout().groups) {
        layout.groups.emplace_back(group.path + "/" + path, name);
      }
    }
  }
  return layout;
}

}  // namespace

NestedModel::NestedModel(Model model) : NestedModel(std::make_shared<Model>(std::move(model))) {}

NestedModel::NestedModel(std::shared_ptr<Model> model)
    : GraphLayer(model->is_sequential() ? "Sequential" : "Functional",
                 {model->name(), model->trainable()}, model, layout_of(*model)) {}

std::shared_ptr<NestedModel> NestedModel::from_config(const std::string& class_name,
                                                      const Config& config,
                                                      const KerasVersion& keras_version) {
  return std::make_shared<NestedModel>(
      Model::from_config(Config{{"class_name", class_name}, {"config", config}}, keras_version));
}

std::string NestedModel::module() const {
  return model().is_sequential() ? "keras" : "keras.src.models.functional";
}

Config NestedModel::registered_name() const {
  return model().is_sequential() ? Config(nullptr) : Config("Functional");
}

Config NestedModel::get_config() const { return model().to_config().at("config"); }

Config NestedModel::build_config() const { return model().to_config().at("build_config"); }

// Keras writes the model's compile_config, {} for one never compiled.
Config NestedModel::compile_config() const { return Config::object(); }

const std::vector<std::string>& NestedModel::call_parameters() const {
  static const std::vector<std::string> parameters{"inputs", "training", "mask"};
  return parameters;
}

GraphLayer::Graph NestedModel::build_graph(const std::vector<KerasTensor>& /*inputs*/) {
  throw Error("NestedModel '" + name() + "': its graph is the model's, built already");
}

}  // namespace kattn
