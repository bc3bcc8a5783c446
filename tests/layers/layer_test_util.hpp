// Helpers shared by the companion-layer tests: exact error messages, and the Keras-computed
// intermediates of the whole-model golden cases (tests/data/golden-models).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "error_test_util.hpp"
#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/io/keras_archive.hpp"
#include "kattn/io/npy.hpp"

namespace kattn::testing {

// The float32 DTypePolicy every layer config carries.
inline const Config& float32_dtype() {
  static const Config dtype = Config::parse(R"({"module": "keras", "class_name": "DTypePolicy",
    "config": {"name": "float32"}, "registered_name": null})");
  return dtype;
}

inline std::filesystem::path golden_models_dir() {
  return std::filesystem::path(KATTN_TEST_DATA_DIR) / "golden-models";
}

// The weights of a golden model case (its model.keras), by HDF5 path ("layers/conv1d/vars/0").
inline WeightStore golden_model_weights(const std::string& case_name) {
  return load_keras_archive(golden_models_dir() / case_name / "model.keras").weights;
}

// An intermediate Keras computed while running a golden model case:
// intermediate("text_dot", "cnn.0.0") reads intermediates/cnn.0.0.npy.
inline NpyArray golden_intermediate(const std::string& case_name, const std::string& file) {
  return read_npy(golden_models_dir() / case_name / "intermediates" / (file + ".npy"));
}

// Elementwise |actual - expected| <= atol + rtol * |expected|, shapes equal.
inline void expect_close(const Tensor& actual, const Tensor& expected, double atol = 1e-5,
                         double rtol = 1e-5) {
  ASSERT_EQ(actual.shape(), expected.shape());
  const std::vector<float> a = actual.to_vector();
  const std::vector<float> e = expected.to_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_LE(std::abs(double(a[i]) - double(e[i])), atol + rtol * std::abs(double(e[i])))
        << "at flat index " << i << ": " << a[i] << " vs " << e[i];
  }
}

}  // namespace kattn::testing
