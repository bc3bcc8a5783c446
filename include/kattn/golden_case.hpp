// Cases in the Keras golden format: a directory with case.json, layer.json, weights/ and the
// .npy inputs and expected outputs that Keras produced (format: tests/data/golden/README.md).
// run_golden_case() rebuilds the layer from its config, loads its weights, makes the call the
// manifest describes and compares every expected output with the case's tolerance.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/tensor.hpp"

namespace kattn {

// How one actual array compares with the expected one under
// abs(actual - expected) <= atol + rtol * abs(expected), elementwise.
struct ArrayComparison {
  std::string name;  // "output", "attention_scores"
  bool passed = false;
  double max_abs_error = 0.0;
  Shape worst_index;    // where |actual - expected| is largest
  std::string problem;  // set when the shapes differ or values are NaN
};

struct Tolerance {
  double atol = 1e-5;
  double rtol = 1e-5;
};

ArrayComparison compare_arrays(std::string name, const Tensor& actual, const Tensor& expected,
                               Tolerance tolerance);

enum class CaseStatus { kPassed, kFailed, kSkipped };

struct GoldenCaseResult {
  std::string name;         // the case directory's name
  std::string layer_class;  // Python class name from case.json
  CaseStatus status = CaseStatus::kFailed;
  std::string message;  // why it failed or was skipped
  std::vector<ArrayComparison> comparisons;
};

// True when `dir` holds a case.json.
bool is_golden_case(const std::filesystem::path& dir);

// `path` itself when it is a case, else its immediate subdirectories that are cases, sorted by
// name. FileError when `path` is neither a case nor a directory containing any.
std::vector<std::filesystem::path> find_golden_cases(const std::filesystem::path& path);

// Runs one case; never throws for a failing or malformed case (the result says why).
GoldenCaseResult run_golden_case(const std::filesystem::path& dir);

// Runs one case's forward and backward passes with its d_output.npy as the upstream gradient
// and compares every gradient file (grad/...) with the case's gradient tolerance (case.json
// `gradients.tolerance`); each call role's input gradient is summed into the input tensor that
// played it (`covers_call_roles`). A case without gradient files is skipped with the reason
// case.json gives. Never throws for a failing or malformed case.
GoldenCaseResult run_golden_case_gradients(const std::filesystem::path& dir);

// True for a whole-model case (case.json names a `model_file` and has no layer.json).
bool is_whole_model_case(const std::filesystem::path& dir);

// Runs one case through its model.keras instead: the model is loaded as Keras saved it, called
// on the case's inputs and every output compared. Works for layer-level cases (case.json
// `model`) and whole-model cases (case.json `model_file`); a whole-model case marked
// `expect_error` passes only when loading fails with an error naming every class in its
// `unsupported_classes`. Never throws for a failing or malformed case.
GoldenCaseResult run_golden_case_via_model(const std::filesystem::path& dir);

// The Python layer classes run_golden_case() can run; other classes are skipped.
std::vector<std::string> golden_case_layer_classes();

}  // namespace kattn
