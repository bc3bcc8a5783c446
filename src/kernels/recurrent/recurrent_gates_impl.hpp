// The gates of kernels/recurrent/recurrent_gates.hpp over a vector type V
// (kernels/<isa>/vec*.hpp), each row's vectors first and its last units % kWidth scalar.
#pragma once

#include <cmath>
#include <type_traits>

#include "kernels/flash/vec_exp.hpp"
#include "kernels/flash/vec_tanh.hpp"
#include "kernels/recurrent/recurrent_gates.hpp"

namespace kattn::kernels {

template <typename V>
struct RecurrentGates {
  static V sigmoid(V x) { return V::splat(1.0f) / (V::splat(1.0f) + vexp(V::zero() - x)); }
  static float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
  static V tanh(V x) { return vtanh(x); }
  static float tanh(float x) { return std::tanh(x); }

  // body(b, j, width): the gates of row b at units j .. j + width, width kWidth or 1.
  template <typename Body>
  static void each(const GateRows& g, Body&& body) {
    constexpr int64_t kWidth = V::kWidth;
    for (int64_t b = 0; b < g.rows; ++b) {
      int64_t j = 0;
      for (; j + kWidth <= g.units; j += kWidth) body.template operator()<V>(b, j);
      for (; j < g.units; ++j) body.template operator()<float>(b, j);
    }
  }

  template <typename T>
  static T load(const float* p) {
    if constexpr (std::is_same_v<T, float>) {
      return *p;
    } else {
      return T::load(p);
    }
  }
  template <typename T>
  static void store(float* p, T value) {
    if constexpr (std::is_same_v<T, float>) {
      *p = value;
    } else {
      value.store(p);
    }
  }

  static void lstm(const GateRows& g) {
    const int64_t u = g.units, width = 4 * u;
    each(g, [&]<typename T>(int64_t b, int64_t j) {
      const float* x = g.x + b * g.x_stride + j;
      const float* r = g.r + b * width + j;
      const auto z = [&](int64_t gate) {
        T value = load<T>(x + gate * u) + load<T>(r + gate * u);
        return g.bias != nullptr ? value + load<T>(g.bias + gate * u + j) : value;
      };
      const T i = sigmoid(z(0)), f = sigmoid(z(1)), candidate = tanh(z(2)), o = sigmoid(z(3));
      const T c = f * load<T>(g.c + b * u + j) + i * candidate;
      store(g.c_next + b * u + j, c);
      store(g.h_next + b * u + j, o * tanh(c));
    });
  }

  static void gru(const GateRows& g) {
    const int64_t u = g.units, width = 3 * u;
    each(g, [&]<typename T>(int64_t b, int64_t j) {
      const float* x = g.x + b * g.x_stride + j;
      const float* r = g.r + b * width + j;
      const auto recurrent = [&](int64_t gate) {
        const T value = load<T>(r + gate * u);
        return g.bias != nullptr ? value + load<T>(g.bias + gate * u + j) : value;
      };
      const T z = sigmoid(load<T>(x) + recurrent(0));
      const T reset = sigmoid(load<T>(x + u) + recurrent(1));
      const T n = tanh(load<T>(x + 2 * u) + reset * recurrent(2));
      const T h = load<T>(g.h + b * u + j);
      const T one = one_of<T>();
      store(g.h_next + b * u + j, z * h + (one - z) * n);
    });
  }

  static void simple_rnn(const GateRows& g) {
    const int64_t u = g.units;
    each(g, [&]<typename T>(int64_t b, int64_t j) {
      store(g.h_next + b * u + j,
            tanh(load<T>(g.x + b * g.x_stride + j) + load<T>(g.r + b * u + j)));
    });
  }

  template <typename T>
  static T one_of() {
    if constexpr (std::is_same_v<T, float>) {
      return 1.0f;
    } else {
      return T::splat(1.0f);
    }
  }
};

}  // namespace kattn::kernels
