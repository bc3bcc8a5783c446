// keras.activations on Keras's numpy backend (keras/src/backend/numpy/nn.py), in float32.
#include "kattn/activations.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "kattn/error.hpp"
#include "kernels/reference/dense_attention.hpp"

namespace kattn {

namespace {

constexpr ErrorSource kActivation{"Activation", ""};
constexpr std::array<std::string_view, 7> kNames = {"linear", "relu",    "gelu", "sigmoid",
                                                    "tanh",   "softmax", "silu"};

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
  } else {  // silu: x * sigmoid(x)
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] * sigmoid(v[i]);
  }
}

}  // namespace kattn
