// What Model::compile fixes for training: the optimizer, the loss, the metrics, the
// compile_config config.json records, and the regularizers and constraints of every trainable
// weight in the optimizer's order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/constraints.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/regularizers.hpp"
#include "kattn/io/weight_store.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace kattn::detail {

// A streaming metric of the compiled model, under the name the logs give it.
struct CompiledMetric {
  std::string name;
  std::function<void(const Tensor& y_true, const Tensor& y_pred)> update;
  std::function<double()> result;
  std::function<void()> reset;
};

struct TrainingSetup {
  std::shared_ptr<Optimizer> optimizer;
  std::shared_ptr<const Loss> loss;
  std::vector<std::string> metric_names;
  // config.json's compile_config without its optimizer (written from the optimizer's state when
  // saving): loss, loss_weights, metrics, weighted_metrics, run_eagerly, steps_per_execution,
  // jit_compile, as compile() or the loaded file gave them.
  Config compile_config;

  // The trainable weights in the optimizer's order (Keras's model.trainable_variables):
  // (layer, index in its weights()).
  struct Slot {
    Layer* layer = nullptr;
    size_t index = 0;
    std::optional<Regularizer> regularizer;
    std::optional<Constraint> constraint;
  };
  std::vector<Slot> slots;
  std::map<const Layer*, std::optional<Regularizer>> activity;  // layers with one
};

// The compiled metrics, fresh; ValueError for a name kattn does not know.
std::vector<CompiledMetric> make_metrics(const TrainingSetup& setup);

// Keras's optimizer.build(model.trainable_variables), unless the optimizer is built already.
void build_optimizer(TrainingSetup& setup);

// The optimizer's variables as Keras's saving_lib stores them: group optimizer/vars (its `name`
// attribute the optimizer's name) with 0 the iteration count (int32), 1 the learning rate,
// then the slots (Optimizer::slot_variables) once it is built.
void write_optimizer_variables(const Optimizer& optimizer, WeightStore& store);
// Keras's Optimizer.load_own_variables from the optimizer/vars datasets of `store`. As Keras
// does, a file holding only the iteration count and the learning rate (saved before the first
// training step) leaves the fresh state as it is. FileError naming the dataset for any other
// count than the built optimizer's, or a dataset of the wrong dtype or shape. The optimizer must
// be built.
void read_optimizer_variables(Optimizer& optimizer, const WeightStore& store);

}  // namespace kattn::detail
