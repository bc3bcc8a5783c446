// A model used as a layer of another (keras.Model(...) or keras.Sequential(...) called on the
// outer model's tensors): config.json writes it as an entry of class Functional or Sequential
// with the model's own config, and model.weights.h5 nests its layers' groups under its own
// (layers/functional/layers/dense/vars/0). It runs as Keras's Functional.call: the `mask`
// argument puts masks on the inputs, the inner graph runs with them, and the outputs carry the
// masks the inner outputs carry at run time (the symbolic outputs none, as in Keras).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kattn/core/keras_version.hpp"
#include "kattn/models/graph_layer.hpp"
#include "kattn/models/model.hpp"

namespace kattn {

class NestedModel : public GraphLayer {
 public:
  // The layer of `model`, named as it is; the model's layers are shared with it.
  explicit NestedModel(Model model);
  // An entry of class "Functional" or "Sequential" of config.json: its `config`, read following
  // `keras_version` (the release that saved the file).
  static std::shared_ptr<NestedModel> from_config(const std::string& class_name,
                                                  const Config& config,
                                                  const KerasVersion& keras_version);

  const Model& model() const { return graph(); }

  std::string module() const override;
  Config registered_name() const override;
  Config get_config() const override;
  Config build_config() const override;
  Config compile_config() const override;
  // Functional.call(inputs, training=None, mask=None).
  const std::vector<std::string>& call_parameters() const override;

 protected:
  // Never called: the graph is the model's.
  Graph build_graph(const std::vector<KerasTensor>& inputs) override;

 private:
  explicit NestedModel(std::shared_ptr<Model> model);
};

}  // namespace kattn
