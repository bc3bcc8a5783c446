// keras.activations on Keras's numpy backend (keras/src/backend/numpy/nn.py), in float32.
#include "kattn/ops/activations.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "kattn/core/error.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kActivation{"Activation", ""};
constexpr std::array<std::string_view, 9> kNames = {
    "linear", "relu", "gelu", "sigmoid", "tanh", "softmax", "silu", "hard_sigmoid", "softsign"};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

ActivationFunction::ActivationFunction() : name_("linear") {}

ActivationFunction::ActivationFunction(std::string_view name)
    : name_(name == "swish" ? "silu" : name) {
  if (std::find(kNames.begin(), kNames.end(), name_) != kNames.end()) return;
  std::string supported;
  for (const std::string_view known : kNames) {
    supported += (supported.empty() ? "" : ", ") + std::string(known);
  }
  throw NotSupportedError(error_message(kActivation, "unsupported activation",
                                        "one of " + supported + " (or swish, an alias of silu)",
                                        "activation=" + std::string(name)));
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

void ActivationFunction::operator()(Tensor& x) const {
  if (name_ == "linear") return;
  if (!x.is_contiguous()) x = x.contiguous();
  float* v = x.data();
  const int64_t n = x.size();
  if (name_ == "softmax") {
    // ops.softmax(x, axis=-1), the numpy backend's max-subtracted form.
    const int64_t length = x.rank() == 0 ? 1 : x.dim(-1);
    if (length > 0) kernels::reference::dense::softmax_rows<float>(n / length, length, v);
  } else if (name_ == "relu") {
    for (int64_t i = 0; i < n; ++i) v[i] = std::max(v[i], 0.0f);
  } else if (name_ == "gelu") {
    // approximate=False: x * (erf(x / sqrt(2)) + 1) / 2, with sqrt(2) rounded to float32.
    const float sqrt_2 = static_cast<float>(std::sqrt(2.0));
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] * (std::erf(v[i] / sqrt_2) + 1.0f) / 2.0f;
  } else if (name_ == "sigmoid") {
    for (int64_t i = 0; i < n; ++i) v[i] = sigmoid(v[i]);
  } else if (name_ == "tanh") {
    for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
  } else if (name_ == "hard_sigmoid") {
    // x / 6 + 0.5, clipped to [0, 1]
    for (int64_t i = 0; i < n; ++i) v[i] = std::clamp(v[i] / 6.0f + 0.5f, 0.0f, 1.0f);
  } else if (name_ == "softsign") {
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] / (1.0f + std::fabs(v[i]));
  } else {  // silu: x * sigmoid(x)
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] * sigmoid(v[i]);
  }
}

Tensor ActivationFunction::backward(const Tensor& inputs, const Tensor& outputs,
                                    const Tensor& d_outputs) const {
  Tensor d = d_outputs.clone();  // fresh, and contiguous
  if (name_ == "linear") return d;
  const Tensor y = outputs.contiguous();
  const Tensor x = backward_reads_inputs() ? inputs.contiguous() : Tensor();
  float* dv = d.data();
  const float* yv = y.data();
  const int64_t n = d.size();
  if (name_ == "softmax") {
    // y = softmax(x) over rows of `length`: dx = y * (dy - sum_j dy_j * y_j).
    const int64_t length = d.rank() == 0 ? 1 : d.dim(-1);
    for (int64_t row = 0; length > 0 && row < n / length; ++row) {
      float* dr = dv + row * length;
      const float* yr = yv + row * length;
      float dot = 0.0f;
      for (int64_t j = 0; j < length; ++j) dot += dr[j] * yr[j];
      for (int64_t j = 0; j < length; ++j) dr[j] = yr[j] * (dr[j] - dot);
    }
  } else if (name_ == "relu") {
    // max(x, 0): the gradient passes where the output is positive.
    for (int64_t i = 0; i < n; ++i) dv[i] = yv[i] > 0.0f ? dv[i] : 0.0f;
  } else if (name_ == "gelu") {
    // x * Phi(x), Phi(x) = (erf(x / sqrt(2)) + 1) / 2: Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi).
    const float sqrt_2 = static_cast<float>(std::sqrt(2.0));
    const auto inv_sqrt_2pi = static_cast<float>(1.0 / std::sqrt(2.0 * 3.14159265358979323846));
    const float* xv = x.data();
    for (int64_t i = 0; i < n; ++i) {
      const float cdf = (std::erf(xv[i] / sqrt_2) + 1.0f) / 2.0f;
      const float pdf = std::exp(-0.5f * xv[i] * xv[i]) * inv_sqrt_2pi;
      dv[i] *= cdf + xv[i] * pdf;
    }
  } else if (name_ == "sigmoid") {
    for (int64_t i = 0; i < n; ++i) dv[i] *= yv[i] * (1.0f - yv[i]);
  } else if (name_ == "tanh") {
    for (int64_t i = 0; i < n; ++i) dv[i] *= 1.0f - yv[i] * yv[i];
  } else if (name_ == "hard_sigmoid") {
    // slope 1/6 where the output is not clipped
    for (int64_t i = 0; i < n; ++i) dv[i] *= yv[i] > 0.0f && yv[i] < 1.0f ? 1.0f / 6.0f : 0.0f;
  } else if (name_ == "softsign") {
    // 1 / (1 + |x|)^2 = (1 - |y|)^2
    for (int64_t i = 0; i < n; ++i) dv[i] *= (1.0f - std::fabs(yv[i])) * (1.0f - std::fabs(yv[i]));
  } else {  // silu: x * s, s = sigmoid(x): s + x * s * (1 - s)
    const float* xv = x.data();
    for (int64_t i = 0; i < n; ++i) {
      const float s = sigmoid(xv[i]);
      dv[i] *= s * (1.0f + xv[i] * (1.0f - s));
    }
  }
  return d;
}

}  // namespace kattn
