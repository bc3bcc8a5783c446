// The optimizer's state in model.weights.h5, as Keras's saving_lib writes it
// (Optimizer.save_own_variables / load_own_variables):
//   optimizer/vars            group, name = the optimizer's name ("adam")
//   optimizer/vars/0          iterations, int32 (int64 from TensorFlow), shape ()
//   optimizer/vars/1          learning_rate, float32, shape ()
//   optimizer/vars/2, 3, ...  the slots, in Keras's order of creation
#include "models/training_setup.hpp"

namespace kattn::detail {

namespace {

constexpr const char* kGroup = "optimizer/vars";

std::string dataset(size_t index) { return std::string(kGroup) + "/" + std::to_string(index); }

// The number of consecutive datasets optimizer/vars/0, 1, ... of any dtype.
size_t stored_count(const WeightStore& store) {
  size_t count = 0;
  while (store.find(dataset(count)) != nullptr || store.find_integer(dataset(count)) != nullptr) {
    ++count;
  }
  return count;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw FileError("weights: dataset '" + path + "' " + problem);
}

}  // namespace

void build_optimizer(TrainingSetup& setup) {
  if (setup.optimizer->built()) return;
  std::vector<Shape> shapes;
  for (const TrainingSetup::Slot& slot : setup.slots) {
    shapes.push_back(slot.layer->weights()[slot.index].value.shape());
  }
  setup.optimizer->build(shapes);
}

void write_optimizer_variables(const Optimizer& optimizer, WeightStore& store) {
  store.add_group("optimizer");
  store.add_group(kGroup, optimizer.name());
  store.set_integer(dataset(0),
                    Int32Tensor(Shape{}, {static_cast<int32_t>(optimizer.iterations())}));
  store.set(dataset(1), Tensor(Shape{}, {optimizer.learning_rate()}));
  const std::vector<Tensor> slots = optimizer.slot_variables();
  for (size_t i = 0; i < slots.size(); ++i) store.set(dataset(i + 2), slots[i]);
}

void read_optimizer_variables(Optimizer& optimizer, const WeightStore& store) {
  const size_t count = stored_count(store);
  const std::vector<Shape> fresh = optimizer.slot_shapes();
  // Saved before the optimizer was built: Keras skips loading (its counts differ), and the
  // iteration count (0) and learning rate are those of a fresh optimizer from the config.
  if (count == 2 && !fresh.empty()) return;
  const size_t expected = 2 + fresh.size();
  if (count != expected) {
    throw FileError("weights: group '" + std::string(kGroup) + "' holds " + std::to_string(count) +
                    " variables, expected " + std::to_string(expected) + " for optimizer '" +
                    optimizer.name() + "' (" + optimizer.class_name() +
                    ": the iteration count, the learning rate and " + std::to_string(expected - 2) +
                    " slots)");
  }
  const Int32Tensor* iterations = store.find_integer(dataset(0));
  if (iterations == nullptr) fail(dataset(0), "is float32, expected the integer iteration count");
  if (iterations->rank() != 0) {
    fail(dataset(0), "has shape " + shape_to_string(iterations->shape()) + ", expected ()");
  }
  const Tensor* learning_rate = store.find(dataset(1));
  if (learning_rate == nullptr)
    fail(dataset(1), "is an integer, expected the float32 learning rate");
  if (learning_rate->rank() != 0) {
    fail(dataset(1), "has shape " + shape_to_string(learning_rate->shape()) + ", expected ()");
  }
  std::vector<Tensor> slots;
  for (size_t i = 0; i < fresh.size(); ++i) {
    const Tensor* slot = store.find(dataset(i + 2));
    if (slot == nullptr) fail(dataset(i + 2), "is an integer, expected a float32 slot");
    if (slot->shape() != fresh[i]) {
      fail(dataset(i + 2), "has shape " + shape_to_string(slot->shape()) + ", expected " +
                               shape_to_string(fresh[i]) + " for slot " + std::to_string(i) +
                               " of optimizer '" + optimizer.name() + "'");
    }
    slots.push_back(*slot);
  }
  optimizer.load_variables(iterations->data()[0], learning_rate->data()[0], slots);
}

}  // namespace kattn::detail
