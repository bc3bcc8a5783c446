// Keras's auto names: unnamed layers, inputs and models are named after their class and numbered
// in the session ("dense", "dense_1", ...), so a model of several unnamed layers of one class
// builds, saves and loads as Keras's does; clear_session() starts the numbering again.
#include <gtest/gtest.h>

#include <filesystem>

#include "kattn/core/session.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/models/sequential.hpp"

namespace kattn {
namespace {

std::vector<std::string> names_of(const Model& model) {
  std::vector<std::string> names;
  for (const std::shared_ptr<Operation>& operation : model.operations()) {
    names.push_back(operation->name());
  }
  return names;
}

TEST(AutoNames, UnnamedLayersOfOneClassAreNumberedAndTheModelSavesAndLoads) {
  const KerasTensor x = Input({.shape = {4}});
  KerasTensor h = make_layer<Dense>({.units = 3})(x);
  h = make_layer<Dense>({.units = 3})(h);
  const Model model(x, make_layer<Dense>({.units = 1})(h));
  EXPECT_EQ(names_of(model),
            (std::vector<std::string>{"input_layer", "dense", "dense_1", "dense_2"}));
  EXPECT_EQ(model.name(), "functional");

  const auto path = std::filesystem::temp_directory_path() / "kattn_auto_names.keras";
  std::filesystem::remove(path);
  save_model(model, path);
  const Model loaded = load_model(path);
  std::filesystem::remove(path);
  // Names read from a file are the file's, and take no number from the session.
  EXPECT_EQ(names_of(loaded), names_of(model));
  EXPECT_EQ(loaded.name(), "functional");
  EXPECT_EQ(Dense({.units = 1}).name(), "dense_3");
  const KerasTensor y = Input({.shape = {2}});
  const Model next(y, make_layer<Dense>({.units = 1})(y));
  EXPECT_EQ(next.name(), "functional_1");
  EXPECT_EQ(names_of(next), (std::vector<std::string>{"input_layer_1", "dense_4"}));
}

TEST(AutoNames, GivenNamesTakeNoNumberAndFailedConstructionsDo) {
  EXPECT_EQ(Dense({.units = 1, .name = "dense"}).name(), "dense");
  EXPECT_EQ(Dense({.units = 1}).name(), "dense");  // a given name is not counted
  EXPECT_THROW(Dense({.units = 0}), ValueError);   // Keras names a layer before checking it
  EXPECT_EQ(Dense({.units = 1}).name(), "dense_2");
  EXPECT_EQ(Dropout::from_config({{"rate", 0.5}})->name(), "dropout");  // a config without one
}

TEST(AutoNames, NamesComeFromThePythonClass) {
  // GroupQueryAttention is serialized under its export name, but named after its class.
  EXPECT_EQ(
      GroupedQueryAttention({.head_dim = 2, .num_query_heads = 2, .num_key_value_heads = 1}).name(),
      "grouped_query_attention");
  // Each makes a softmax and a dropout layer, as Keras's __init__ does: they took "dropout" and
  // "dropout_1".
  EXPECT_EQ(MultiHeadAttention({.num_heads = 1, .key_dim = 2}).name(), "multi_head_attention");
  EXPECT_EQ(Dropout({.rate = 0.1}).name(), "dropout_2");
}

TEST(AutoNames, SequentialModelsAndClearSession) {
  const Model first = Sequential({.shape = {2}}, {make_layer<Dense>({.units = 1})});
  const Model second = Sequential({.shape = {2}}, {make_layer<Dense>({.units = 1})});
  EXPECT_EQ(first.name(), "sequential");
  EXPECT_EQ(second.name(), "sequential_1");
  EXPECT_EQ(names_of(second).back(), "dense_1");
  clear_session();
  EXPECT_EQ(Dense({.units = 1}).name(), "dense");
  EXPECT_EQ(Sequential({.shape = {2}}, {make_layer<Dense>({.units = 1})}).name(), "sequential");
}

}  // namespace
}  // namespace kattn
