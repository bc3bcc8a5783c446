// keras.activations on Keras's numpy backend (keras/src/backend/numpy/nn.py), in float32
// (and in double, for the reference implementations' checks).
#include "kattn/ops/activations.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "kattn/core/error.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kActivation{"Activation", ""};
constexpr std::array<std::string_view, 28> kNames = {
    "linear",      "relu",         "gelu",        "sigmoid",     "tanh",        "softmax",
    "silu",        "hard_sigmoid", "softsign",    "relu6",       "leaky_relu",  "elu",
    "selu",        "celu",         "softplus",    "log_sigmoid", "exponential", "mish",
    "hard_silu",   "tanh_shrink",  "hard_tanh",   "squareplus",  "sparse_plus", "sparse_sigmoid",
    "soft_shrink", "hard_shrink",  "log_softmax", "sparsemax"};

template <typename Real>
Real sigmoid(Real x) {
  return Real(1) / (Real(1) + std::exp(-x));
}

// np.logaddexp(x, 0): max(x, 0) + log1p(exp(-|x|)).
template <typename Real>
Real softplus(Real x) {
  return std::max(x, Real(0)) + std::log1p(std::exp(-std::abs(x)));
}

// keras.activations.selu's constants.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// An element-wise activation with Keras's default arguments (leaky_relu's negative_slope 0.2,
// elu's and celu's alpha 1, squareplus's b 4, the shrinks' threshold 0.5), as its value and
// its derivative at the input x.
template <typename Real>
struct Elementwise {
  std::string_view name;
  Real (*value)(Real);
  Real (*derivative)(Real);
};

template <typename Real>
const Elementwise<Real>* elementwise(std::string_view name) {
  static const auto table = std::to_array<Elementwise<Real>>({
      {"relu6", [](Real x) { return std::min(std::max(x, Real(0)), Real(6)); },
       [](Real x) { return x > Real(0) && x < Real(6) ? Real(1) : Real(0); }},
      {"leaky_relu", [](Real x) { return std::max(x, Real(0.2) * x); },
       [](Real x) { return x > Real(0) ? Real(1) : Real(0.2); }},
      {"elu", [](Real x) { return x >= Real(0) ? x : std::expm1(x); },
       [](Real x) { return x >= Real(0) ? Real(1) : std::exp(x); }},
      // scale * elu(x, alpha), the constants rounded to Real
      {"selu",
       [](Real x) {
         return static_cast<Real>(kSeluScale) *
                (x >= Real(0) ? x : static_cast<Real>(kSeluAlpha) * std::expm1(x));
       },
       [](Real x) {
         return static_cast<Real>(kSeluScale) *
                (x >= Real(0) ? Real(1) : static_cast<Real>(kSeluAlpha) * std::exp(x));
       }},
      // max(x, 0) + alpha * expm1(min(x, 0) / alpha)
      {"celu", [](Real x) { return std::max(x, Real(0)) + std::expm1(std::min(x, Real(0))); },
       [](Real x) { return x > Real(0) ? Real(1) : std::exp(x); }},
      {"softplus", [](Real x) { return softplus(x); }, [](Real x) { return sigmoid(x); }},
      // -softplus(-x)
      {"log_sigmoid", [](Real x) { return -softplus(-x); }, [](Real x) { return sigmoid(-x); }},
      {"exponential", [](Real x) { return std::exp(x); }, [](Real x) { return std::exp(x); }},
      // x * tanh(softplus(x)): t + x * (1 - t^2) * sigmoid(x), t = tanh(softplus(x))
      {"mish", [](Real x) { return x * std::tanh(softplus(x)); },
       [](Real x) {
         const Real t = std::tanh(softplus(x));
         return t + x * (Real(1) - t * t) * sigmoid(x);
       }},
      // x * hard_sigmoid(x)
      {"hard_silu",
       [](Real x) { return x * std::clamp(x / Real(6) + Real(0.5), Real(0), Real(1)); },
       [](Real x) {
         const Real h = std::clamp(x / Real(6) + Real(0.5), Real(0), Real(1));
         return h + (x > Real(-3) && x < Real(3) ? x / Real(6) : Real(0));
       }},
      {"tanh_shrink", [](Real x) { return x - std::tanh(x); },
       [](Real x) { return std::tanh(x) * std::tanh(x); }},
      {"hard_tanh", [](Real x) { return std::clamp(x, Real(-1), Real(1)); },
       [](Real x) { return x > Real(-1) && x < Real(1) ? Real(1) : Real(0); }},
      // (x + sqrt(x^2 + b)) / 2
      {"squareplus", [](Real x) { return (x + std::sqrt(x * x + Real(4))) / Real(2); },
       [](Real x) { return (Real(1) + x / std::sqrt(x * x + Real(4))) / Real(2); }},
      // 0 for x <= -1, (x + 1)^2 / 4 for x < 1, else x
      {"sparse_plus",
       [](Real x) {
         return x <= Real(-1) ? Real(0)
                : x < Real(1) ? Real(0.25) * (x + Real(1)) * (x + Real(1))
                              : x;
       },
       [](Real x) {
         return x <= Real(-1) ? Real(0) : x < Real(1) ? Real(0.5) * (x + Real(1)) : Real(1);
       }},
      // 0 for x <= -1, 1 for x >= 1, else (x + 1) / 2
      {"sparse_sigmoid",
       [](Real x) {
         return x <= Real(-1) ? Real(0) : x >= Real(1) ? Real(1) : Real(0.5) * (x + Real(1));
       },
       [](Real x) { return x > Real(-1) && x < Real(1) ? Real(0.5) : Real(0); }},
      {"soft_shrink",
       [](Real x) {
         return x > Real(0.5) ? x - Real(0.5) : x < Real(-0.5) ? x + Real(0.5) : Real(0);
       },
       [](Real x) { return std::abs(x) > Real(0.5) ? Real(1) : Real(0); }},
      {"hard_shrink", [](Real x) { return std::abs(x) > Real(0.5) ? x : Real(0); },
       [](Real x) { return std::abs(x) > Real(0.5) ? Real(1) : Real(0); }},
  });
  for (const Elementwise<Real>& entry : table) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// keras.activations.sparsemax over one row as Keras computes it (the same formula on every
// backend): z the row sorted in decreasing order, c its running sums (float32), the support
// S = {j : z_j - (c_j - 1) / j > 0} (in double: numpy promotes by the int range), k = |S|,
// tau = (sum of c_j over S - 1) / k and y = max(x - tau, 0). Keras sums the running sums
// where sparsemax's definition takes the last one, c_k, so its rows need not sum to 1.
struct SparsemaxRow {
  std::vector<int64_t> order;  // the row's indices by decreasing value
  int64_t support = 0;         // k
  double tau = 0.0;
};

template <typename Real>
SparsemaxRow sparsemax_threshold(const Real* row, int64_t length) {
  SparsemaxRow result;
  result.order.resize(static_cast<size_t>(length));
  for (int64_t j = 0; j < length; ++j) result.order[static_cast<size_t>(j)] = j;
  std::stable_sort(result.order.begin(), result.order.end(),
                   [&](int64_t a, int64_t b) { return row[a] > row[b]; });
  Real running = Real(0.0);
  Real kept_sum = Real(0.0);
  for (int64_t j = 0; j < length; ++j) {
    const Real z = row[result.order[static_cast<size_t>(j)]];
    running += z;
    if (static_cast<double>(z) - (static_cast<double>(running) - 1.0) / double(j + 1) > 0.0) {
      ++result.support;
      kept_sum += running;
    }
  }
  result.tau = static_cast<double>(kept_sum - Real(1.0)) / static_cast<double>(result.support);
  return result;
}

}  // namespace

ActivationFunction::ActivationFunction() : name_("linear") {}

ActivationFunction::ActivationFunction(std::string_view name)
    : name_(name == "swish"        ? "silu"
            : name == "hard_swish" ? "hard_silu"
                                   : name) {
  if (std::find(kNames.begin(), kNames.end(), name_) != kNames.end()) return;
  if (name_ == "glu") {
    throw NotSupportedError(error_message(
        kActivation, "glu halves the axis it gates, which no layer's output shape allows for here",
        "an activation that keeps its input's shape", "activation=glu"));
  }
  std::string supported;
  for (const std::string_view known : kNames) {
    supported += (supported.empty() ? "" : ", ") + std::string(known);
  }
  throw NotSupportedError(error_message(
      kActivation, "unsupported activation",
      "one of " + supported + " (or swish and hard_swish, aliases of silu and hard_silu)",
      "activation=" + std::string(name)));
}

bool ActivationFunction::backward_reads_inputs() const {
  return name_ == "gelu" || name_ == "silu" || name_ == "sparsemax" ||
         elementwise<float>(name_) != nullptr;
}

ActivationFunction ActivationFunction::from_config(const Config& config) {
  if (config.is_null()) return ActivationFunction();
  if (!config.is_string()) {
    // A serialized object is a custom or parameterised activation (a layer, a registered
    // function), none of which kattn implements.
    throw NotSupportedError(error_message(kActivation, "unsupported activation",
                                          "null or the name of a built-in activation",
                                          "activation=" + config.dump()));
  }
  return ActivationFunction(config.get<std::string>());
}

template <typename Real>
void ActivationFunction::operator()(BasicTensor<Real>& x) const {
  if (name_ == "linear") return;
  if (!x.is_contiguous()) x = x.contiguous();
  Real* v = x.data();
  const int64_t n = x.size();
  if (const Elementwise<Real>* f = elementwise<Real>(name_)) {
    for (int64_t i = 0; i < n; ++i) v[i] = f->value(v[i]);
  } else if (name_ == "softmax") {
    // ops.softmax(x, axis=-1), the numpy backend's max-subtracted form.
    const int64_t length = x.rank() == 0 ? 1 : x.dim(-1);
    if (length > 0) kernels::reference::dense::softmax_rows<Real>(n / length, length, v);
  } else if (name_ == "log_softmax") {
    // x - max - log(sum(exp(x - max))) over the last axis, as the numpy backend computes it.
    const int64_t length = x.rank() == 0 ? 1 : x.dim(-1);
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      Real* r = v + row * length;
      const Real max = *std::max_element(r, r + length);
      Real sum = Real(0.0);
      for (int64_t j = 0; j < length; ++j) sum += std::exp(r[j] - max);
      const Real log_sum = std::log(sum);
      for (int64_t j = 0; j < length; ++j) r[j] = r[j] - max - log_sum;
    }
  } else if (name_ == "sparsemax") {
    const int64_t length = x.rank() == 0 ? 1 : x.dim(-1);
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      Real* r = v + row * length;
      const double tau = sparsemax_threshold(r, length).tau;
      for (int64_t j = 0; j < length; ++j) {
        r[j] = static_cast<Real>(std::max(static_cast<double>(r[j]) - tau, 0.0));
      }
    }
  } else if (name_ == "relu") {
    for (int64_t i = 0; i < n; ++i) v[i] = std::max(v[i], Real(0.0));
  } else if (name_ == "gelu") {
    // approximate=False: x * (erf(x / sqrt(2)) + 1) / 2, with sqrt(2) rounded to float32.
    const Real sqrt_2 = static_cast<Real>(std::sqrt(2.0));
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] * (std::erf(v[i] / sqrt_2) + Real(1.0)) / Real(2.0);
  } else if (name_ == "sigmoid") {
    for (int64_t i = 0; i < n; ++i) v[i] = sigmoid(v[i]);
  } else if (name_ == "tanh") {
    for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
  } else if (name_ == "hard_sigmoid") {
    // x / 6 + 0.5, clipped to [0, 1]
    for (int64_t i = 0; i < n; ++i)
      v[i] = std::clamp(v[i] / Real(6.0) + Real(0.5), Real(0.0), Real(1.0));
  } else if (name_ == "softsign") {
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] / (Real(1.0) + std::abs(v[i]));
  } else {  // silu: x * sigmoid(x)
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] * sigmoid(v[i]);
  }
}

template <typename Real>
BasicTensor<Real> ActivationFunction::backward(const BasicTensor<Real>& inputs,
                                               const BasicTensor<Real>& outputs,
                                               const BasicTensor<Real>& d_outputs) const {
  BasicTensor<Real> d = d_outputs.clone();  // fresh, and contiguous
  if (name_ == "linear") return d;
  const BasicTensor<Real> y = outputs.contiguous();
  const BasicTensor<Real> x = backward_reads_inputs() ? inputs.contiguous() : BasicTensor<Real>();
  Real* dv = d.data();
  const Real* yv = y.data();
  const int64_t n = d.size();
  if (const Elementwise<Real>* f = elementwise<Real>(name_)) {
    const Real* xv = x.data();
    for (int64_t i = 0; i < n; ++i) dv[i] *= f->derivative(xv[i]);
  } else if (name_ == "softmax") {
    // y = softmax(x) over rows of `length`: dx = y * (dy - sum_j dy_j * y_j).
    const int64_t length = d.rank() == 0 ? 1 : d.dim(-1);
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      Real* dr = dv + row * length;
      const Real* yr = yv + row * length;
      Real dot = Real(0.0);
      for (int64_t j = 0; j < length; ++j) dot += dr[j] * yr[j];
      for (int64_t j = 0; j < length; ++j) dr[j] = yr[j] * (dr[j] - dot);
    }
  } else if (name_ == "log_softmax") {
    // y = log(softmax(x)) over rows: dx = dy - exp(y) * sum_j dy_j.
    const int64_t length = d.rank() == 0 ? 1 : d.dim(-1);
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      Real* dr = dv + row * length;
      const Real* yr = yv + row * length;
      Real sum = Real(0.0);
      for (int64_t j = 0; j < length; ++j) sum += dr[j];
      for (int64_t j = 0; j < length; ++j) dr[j] -= std::exp(yr[j]) * sum;
    }
  } else if (name_ == "sparsemax") {
    // y = max(x - tau, 0) with tau = (sum over S of c_j - 1) / k: tau moves with the element of
    // rank l (1-based) by (k - l + 1) / k for l <= k, so dx_i = [y_i > 0] dy_i -
    // (sum of the dy_m with y_m > 0) * that weight of x_i.
    const int64_t length = d.rank() == 0 ? 1 : d.dim(-1);
    const Real* xv = x.data();
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      Real* dr = dv + row * length;
      const Real* yr = yv + row * length;
      const SparsemaxRow threshold = sparsemax_threshold(xv + row * length, length);
      Real passed = Real(0.0);
      for (int64_t j = 0; j < length; ++j) passed += yr[j] > Real(0.0) ? dr[j] : Real(0.0);
      for (int64_t j = 0; j < length; ++j) {
        if (!(yr[j] > Real(0.0))) dr[j] = Real(0.0);
      }
      const auto k = static_cast<Real>(threshold.support);
      for (int64_t l = 0; l < threshold.support; ++l) {
        dr[threshold.order[static_cast<size_t>(l)]] -= passed * (k - static_cast<Real>(l)) / k;
      }
    }
  } else if (name_ == "relu") {
    // max(x, 0): the gradient passes where the output is positive.
    for (int64_t i = 0; i < n; ++i) dv[i] = yv[i] > Real(0.0) ? dv[i] : Real(0.0);
  } else if (name_ == "gelu") {
    // x * Phi(x), Phi(x) = (erf(x / sqrt(2)) + 1) / 2: Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi).
    const Real sqrt_2 = static_cast<Real>(std::sqrt(2.0));
    const auto inv_sqrt_2pi = static_cast<Real>(1.0 / std::sqrt(2.0 * 3.14159265358979323846));
    const Real* xv = x.data();
    for (int64_t i = 0; i < n; ++i) {
      const Real cdf = (std::erf(xv[i] / sqrt_2) + Real(1.0)) / Real(2.0);
      const Real pdf = std::exp(-Real(0.5) * xv[i] * xv[i]) * inv_sqrt_2pi;
      dv[i] *= cdf + xv[i] * pdf;
    }
  } else if (name_ == "sigmoid") {
    for (int64_t i = 0; i < n; ++i) dv[i] *= yv[i] * (Real(1.0) - yv[i]);
  } else if (name_ == "tanh") {
    for (int64_t i = 0; i < n; ++i) dv[i] *= Real(1.0) - yv[i] * yv[i];
  } else if (name_ == "hard_sigmoid") {
    // slope 1/6 where the output is not clipped
    for (int64_t i = 0; i < n; ++i)
      dv[i] *= yv[i] > Real(0.0) && yv[i] < Real(1.0) ? Real(1.0) / Real(6.0) : Real(0.0);
  } else if (name_ == "softsign") {
    // 1 / (1 + |x|)^2 = (1 - |y|)^2
    for (int64_t i = 0; i < n; ++i)
      dv[i] *= (Real(1.0) - std::abs(yv[i])) * (Real(1.0) - std::abs(yv[i]));
  } else {  // silu: x * s, s = sigmoid(x): s + x * s * (1 - s)
    const Real* xv = x.data();
    for (int64_t i = 0; i < n; ++i) {
      const Real s = sigmoid(xv[i]);
      dv[i] *= s * (Real(1.0) + xv[i] * (Real(1.0) - s));
    }
  }
  return d;
}

template void ActivationFunction::operator()(Tensor&) const;
template void ActivationFunction::operator()(TensorF64&) const;
template Tensor ActivationFunction::backward(const Tensor&, const Tensor&, const Tensor&) const;
template TensorF64 ActivationFunction::backward(const TensorF64&, const TensorF64&,
                                                const TensorF64&) const;

}  // namespace kattn
