// Keras 3.16's optimizers for training: SGD, Adam and AdamW. They update float32 variables in
// place with Keras's update rules, in float32 arithmetic like Keras's float32 variables, and keep
// float32 slots (momentums, velocities) for each variable, keyed by its position.
//
// apply_gradients(variables, gradients) follows BaseOptimizer.apply and _backend_apply_gradients:
//   1. the first call builds the slots; later calls must pass variables of the same shapes in the
//      same order
//   2. gradients /= loss_scale_factor, when set
//   3. _clip_gradients: clipnorm per variable, else global_clipnorm over all gradients, else
//      clipvalue elementwise; as in Keras a value <= 0 clips nothing
//   4. _apply_weight_decay, when weight_decay is set: var -= var * weight_decay * learning_rate,
//      except at positions given to exclude_from_weight_decay
//   5. update_step for each variable (the optimizer's rule)
//   6. iterations += 1
// An empty call does nothing, as in Keras.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// The keyword arguments of BaseOptimizer.__init__ besides learning_rate, weight_decay and name,
// with Keras's defaults.
struct OptimizerArgs {
  // At most one of the three clipping arguments may be set.
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
  // kattn keeps no moving average of the variables: use_ema=true raises NotSupportedError once
  // Keras's checks of ema_momentum and ema_overwrite_frequency pass.
  bool use_ema = false;
  double ema_momentum = 0.99;
  std::optional<int64_t> ema_overwrite_frequency = std::nullopt;
  // Gradients are divided by it before clipping.
  std::optional<double> loss_scale_factor = std::nullopt;
  // Not implemented: a value other than null or 0 raises NotSupportedError once Keras's
  // ">= 2" check passes.
  std::optional<int64_t> gradient_accumulation_steps = std::nullopt;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The Keras class_name ("Adam").
  const std::string& class_name() const { return class_name_; }
  const std::string& name() const { return name_; }
  // The float32 learning-rate variable.
  float learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate);
  const std::optional<double>& weight_decay() const { return weight_decay_; }
  const OptimizerArgs& args() const { return args_; }
  // The number of apply_gradients calls that updated variables.
  int64_t iterations() const { return iterations_; }
  bool built() const { return built_; }

  // Updates each variables[i] in place from gradients[i] (of the variable's shape). Variables
  // must be contiguous; the first call fixes their number and shapes.
  void apply_gradients(const std::vector<Tensor*>& variables, const std::vector<Tensor>& gradients);
  // Keras's apply_gradients(zip(grads, vars)).
  void apply_gradients(const std::vector<std::pair<Tensor, Tensor*>>& grads_and_vars);

  // Keras's build(var_list): creates zero slots for variables of these shapes, in order. The
  // first apply_gradients builds an optimizer that is not built; ValueError when built already.
  void build(const std::vector<Shape>& shapes);

  // Keras's optimizer.variables, as model.weights.h5 stores them under optimizer/vars: the
  // iteration count (int32, shape ()), the learning rate (float32, shape ()), then the slots in
  // Keras's order of creation. Only the slots are returned here: SGD with momentum, a momentum
  // per variable; Adam and AdamW a momentum and a velocity per variable, interleaved
  // (add_optimizer_variables(var_list, ["momentum", "velocity"])), then with amsgrad a
  // velocity_hat per variable. Copies.
  std::vector<Tensor> slot_variables() const;
  // The shapes of slot_variables(), without copying them.
  std::vector<Shape> slot_shapes() const;
  // Keras's load_own_variables: sets the iteration count, the learning rate and every slot (in
  // slot_variables()'s order). ValueError, before anything changes, when the optimizer is not
  // built, the number of slots differs or a slot's shape does.
  void load_variables(int64_t iterations, double learning_rate, const std::vector<Tensor>& slots);

  // Keras's exclude_from_weight_decay(var_list=...), by position in the variable list. Only
  // before the first apply_gradients.
  void exclude_from_weight_decay(std::vector<int64_t> positions);

  // Keras's _clip_gradients: the gradients as clipping leaves them.
  std::vector<Tensor> clip_gradients(const std::vector<Tensor>& gradients) const;

  // Keras's get_config(): the base keys (name, learning_rate as the float32 variable holds it,
  // weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema, ema_momentum,
  // ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps) and the
  // optimizer's own.
  virtual Config get_config() const;

 protected:
  // Runs BaseOptimizer.__init__'s checks.
  Optimizer(std::string class_name, std::string name, double learning_rate,
            std::optional<double> weight_decay, OptimizerArgs args);

  ErrorSource error_source() const { return {class_name_, name_}; }

  // Keras's build: creates the slots of variables of `shapes`, in order.
  virtual void create_slots(const std::vector<Shape>& shapes) = 0;
  // The slots, in Keras's order of creation (see slot_variables()).
  virtual std::vector<Tensor*> slots() = 0;
  // Keras's update_step for the variable at `index`; gradient and variable are flat views of
  // the same length.
  virtual void update_step(size_t index, std::span<const float> gradient, std::span<float> variable,
                           float learning_rate) = 0;

 private:
  void clip(std::vector<std::vector<float>>& gradients) const;

  std::string class_name_;
  std::string name_;
  float learning_rate_;
  std::optional<double> weight_decay_;
  OptimizerArgs args_;
  int64_t iterations_ = 0;
  bool built_ = false;
  std::vector<Shape> shapes_;
  std::vector<int64_t> excluded_;
};

// keras.optimizers.SGD:
//   momentum == 0:  var -= learning_rate * g
//   otherwise:      m = momentum * m - learning_rate * g
//                   var += m, or with nesterov var += momentum * m - learning_rate * g
class SGD : public Optimizer {
 public:
  struct Args {
    double learning_rate = 0.01;
    double momentum = 0.0;  // in [0, 1]
    bool nesterov = false;
    std::optional<double> weight_decay = std::nullopt;
    OptimizerArgs base = {};
    std::string name = "SGD";
  };

  SGD();
  explicit SGD(Args args);
  // Keras's from_config (a learning-rate schedule raises NotSupportedError).
  static std::unique_ptr<SGD> from_config(const Config& config);
  Config get_config() const override;

  double momentum() const { return momentum_; }
  bool nesterov() const { return nesterov_; }
  // One per variable, only when momentum != 0 (Keras creates none otherwise).
  const std::vector<Tensor>& momentums() const { return momentums_; }

 protected:
  void create_slots(const std::vector<Shape>& shapes) override;
  std::vector<Tensor*> slots() override;
  void update_step(size_t index, std::span<const float> gradient, std::span<float> variable,
                   float learning_rate) override;

 private:
  double momentum_;
  bool nesterov_;
  std::vector<Tensor> momentums_;
};

// keras.optimizers.Adam, with t = iterations + 1:
//   alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   amsgrad: v_hat = max(v_hat, v), used in place of v
//   var -= m * alpha / (sqrt(v) + epsilon)
class Adam : public Optimizer {
 public:
  struct Args {
    double learning_rate = 0.001;
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    std::optional<double> weight_decay = std::nullopt;
    OptimizerArgs base = {};
    std::string name = "adam";
  };

  Adam();
  explicit Adam(Args args);
  static std::unique_ptr<Adam> from_config(const Config& config);
  Config get_config() const override;

  double beta_1() const { return beta_1_; }
  double beta_2() const { return beta_2_; }
  double epsilon() const { return epsilon_; }
  bool amsgrad() const { return amsgrad_; }
  const std::vector<Tensor>& momentums() const { return momentums_; }
  const std::vector<Tensor>& velocities() const { return velocities_; }
  // Only with amsgrad.
  const std::vector<Tensor>& velocity_hats() const { return velocity_hats_; }

 protected:
  Adam(std::string class_name, Args args);
  void create_slots(const std::vector<Shape>& shapes) override;
  std::vector<Tensor*> slots() override;
  void update_step(size_t index, std::span<const float> gradient, std::span<float> variable,
                   float learning_rate) override;

 private:
  double beta_1_;
  double beta_2_;
  double epsilon_;
  bool amsgrad_;
  std::vector<Tensor> momentums_;
  std::vector<Tensor> velocities_;
  std::vector<Tensor> velocity_hats_;
};

// keras.optimizers.AdamW: Adam whose weight_decay defaults to 0.004 and must be set.
class AdamW : public Adam {
 public:
  struct Args {
    double learning_rate = 0.001;
    std::optional<double> weight_decay = 0.004;
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    OptimizerArgs base = {};
    std::string name = "adamw";
  };

  AdamW();
  explicit AdamW(Args args);
  static std::unique_ptr<AdamW> from_config(const Config& config);
};

// keras.optimizers.get / deserialize: an optimizer from its class name, matched without regard
// to case as Keras does ("sgd", "Adam", "adamw"), or from a serialized object
// {"module", "class_name", "config", "registered_name"}. Other Keras optimizers raise
// NotSupportedError naming them; anything else raises ValueError.
std::unique_ptr<Optimizer> deserialize_optimizer(const Config& identifier);

// keras.optimizers.serialize: {"module": "keras.optimizers", "class_name", "config",
// "registered_name": null}.
Config serialize_optimizer(const Optimizer& optimizer);

}  // namespace kattn
