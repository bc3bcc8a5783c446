// Training a functional model as Keras's model.compile / fit / evaluate / train_on_batch do:
// a loss on the model's outputs (plus every weight and activity regularizer of its layers),
// gradients by the layers' backward passes in reverse graph order, an optimizer step, then
// each weight's constraint.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kattn/core/tensor.hpp"
#include "kattn/core/value.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace kattn {

// Keras's model.compile arguments.
struct CompileArgs {
  std::shared_ptr<Optimizer> optimizer = nullptr;  // required
  std::shared_ptr<const Loss> loss = nullptr;      // required; applied to every output, summed
  // "accuracy" (binary or sparse categorical, as the loss says, like Keras's get_metric),
  // "binary_accuracy", "sparse_categorical_accuracy".
  std::vector<std::string> metrics = {};
};

// What fit, evaluate and train_on_batch report: "loss" and each metric by its name.
using Logs = std::map<std::string, double>;

struct FitArgs {
  int64_t batch_size = 32;
  int64_t epochs = 1;
  // Keras's verbose: kAuto writes a line per epoch when the stream is a terminal (standard
  // output: isatty), nothing otherwise; kSilent never; kLine always.
  enum class Verbose { kAuto, kSilent, kLine };
  Verbose verbose = Verbose::kAuto;
  // Batches in a fresh random order each epoch (seeded by `seed` when given, else by draw_seed()).
  bool shuffle = true;
  std::optional<uint64_t> seed = std::nullopt;
  // Evaluated at the end of each epoch into "val_loss", "val_<metric>".
  std::optional<std::vector<AnyTensor>> validation_x = std::nullopt;
  std::optional<std::vector<Tensor>> validation_y = std::nullopt;
  // Where the progress lines go; null: standard output.
  std::ostream* progress = nullptr;
};

// Keras's History.history: one value per epoch for each of the logs.
struct History {
  std::map<std::string, std::vector<double>> history;
};

}  // namespace kattn
