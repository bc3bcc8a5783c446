#include "kattn/golden_case.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "golden/loaded_case.hpp"
#include "kattn/core/error.hpp"
#include "kattn/io/npy.hpp"

namespace kattn {

namespace {

using Runner = std::function<AttentionOutput(const golden::LoadedCase&)>;
using GradientRunner =
    std::function<golden::CaseGradients(const golden::LoadedCase&, const Tensor& d_output)>;

// Python layer class (case.json `layer_class`) -> how its case is called, forward and backward.
struct CaseRunners {
  Runner call;
  GradientRunner gradients;
};
const std::map<std::string, CaseRunners>& runners() {
  static const std::map<std::string, CaseRunners> table = {
      {"Attention", {golden::run_dense_attention_case, golden::run_dense_attention_gradients}},
      {"AdditiveAttention",
       {golden::run_dense_attention_case, golden::run_dense_attention_gradients}},
      {"MultiHeadAttention",
       {golden::run_projected_attention_case, golden::run_projected_attention_gradients}},
      {"GroupedQueryAttention",
       {golden::run_projected_attention_case, golden::run_projected_attention_gradients}},
  };
  return table;
}

// The gradient of the input tensor a `files` entry of case.json describes: the sum of its
// call roles' gradients (a role folded into "value" by the layer is already there).
Tensor input_gradient(const golden::CaseGradients& gradients, const Config& file) {
  std::optional<Tensor> sum;
  for (const Config& role : file.at("covers_call_roles")) {
    const auto found = gradients.roles.find(role.get<std::string>());
    if (found == gradients.roles.end()) continue;
    if (!sum) {
      sum = found->second.clone();
    } else {
      if (sum->shape() != found->second.shape()) {
        throw Error("call roles of input '" + file.value("name", "") +
                    "' have gradients of different shapes");
      }
      float* s = sum->data();
      const Tensor part = found->second.contiguous();
      for (int64_t i = 0; i < sum->size(); ++i) s[i] += part.data()[i];
    }
  }
  if (!sum) throw Error("no call role of input '" + file.value("name", "") + "' has a gradient");
  return *sum;
}

Shape unravel(int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = shape[axis] == 0 ? 0 : flat % shape[axis];
    flat = shape[axis] == 0 ? 0 : flat / shape[axis];
  }
  return index;
}

}  // namespace

namespace golden {

Tolerance case_tolerance(const Config& manifest) {
  Tolerance tolerance;
  const Config& t = manifest.value("tolerance", Config::object());
  tolerance.atol = t.value("atol", tolerance.atol);
  tolerance.rtol = t.value("rtol", tolerance.rtol);
  return tolerance;
}

CaseStatus verdict(const GoldenCaseResult& result) {
  const bool passed = std::all_of(result.comparisons.begin(), result.comparisons.end(),
                                  [](const ArrayComparison& c) { return c.passed; });
  return passed ? CaseStatus::kPassed : CaseStatus::kFailed;
}

}  // namespace golden

ArrayComparison compare_arrays(std::string name, const Tensor& actual, const Tensor& expected,
                               Tolerance tolerance) {
  ArrayComparison comparison;
  comparison.name = std::move(name);
  if (actual.shape() != expected.shape()) {
    comparison.problem = "shape " + shape_to_string(actual.shape()) + ", expected " +
                         shape_to_string(expected.shape());
    return comparison;
  }
  const std::vector<float> a = actual.to_vector();
  const std::vector<float> e = expected.to_vector();
  bool within = true;
  bool has_nan = false;
  int64_t worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double expected_value = static_cast<double>(e[i]);
    const double error = std::fabs(static_cast<double>(a[i]) - expected_value);
    if (std::isnan(error)) {
      if (!has_nan) worst = static_cast<int64_t>(i);
      has_nan = true;
      within = false;
      continue;
    }
    if (error > tolerance.atol + tolerance.rtol * std::fabs(expected_value)) within = false;
    if (!has_nan && error > comparison.max_abs_error) {
      comparison.max_abs_error = error;
      worst = static_cast<int64_t>(i);
    }
  }
  if (has_nan) comparison.problem = "NaN";
  comparison.worst_index = unravel(worst, expected.shape());
  comparison.passed = within;
  return comparison;
}

bool is_golden_case(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(dir / "case.json", ec);
}

std::vector<std::filesystem::path> find_golden_cases(const std::filesystem::path& path) {
  if (is_golden_case(path)) return {path};
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    throw FileError("'" + path.string() + "' is neither a case directory (with case.json) " +
                    "nor a directory of cases");
  }
  std::vector<std::filesystem::path> cases;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.is_directory() && is_golden_case(entry.path())) cases.push_back(entry.path());
  }
  if (cases.empty()) {
    throw FileError("'" + path.string() + "' contains no case directories (with case.json)");
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::vector<std::string> golden_case_layer_classes() {
  std::vector<std::string> classes;
  for (const auto& [layer_class, runner] : runners()) classes.push_back(layer_class);
  return classes;
}

GoldenCaseResult run_golden_case(const std::filesystem::path& dir) {
  return golden::run_case(dir, [&](GoldenCaseResult& result) {
    const golden::LoadedCase loaded = golden::load_case(dir);
    result.layer_class = loaded.manifest.value("layer_class", "");
    const auto runner = runners().find(result.layer_class);
    if (runner == runners().end()) {
      result.message = "layer class " + result.layer_class + " is not supported";
      return CaseStatus::kSkipped;
    }
    const AttentionOutput actual = runner->second.call(loaded);
    const Tolerance tolerance = golden::case_tolerance(loaded.manifest);
    result.comparisons.push_back(
        compare_arrays("output", actual.output, read_npy_tensor(dir / "output.npy"), tolerance));
    if (loaded.return_attention_scores) {
      if (!actual.attention_scores) {
        throw Error("the layer returned no attention scores although they were requested");
      }
      result.comparisons.push_back(compare_arrays("attention_scores", *actual.attention_scores,
                                                  read_npy_tensor(dir / "attention_scores.npy"),
                                                  tolerance));
    }
    return golden::verdict(result);
  });
}

GoldenCaseResult run_golden_case_gradients(const std::filesystem::path& dir) {
  return golden::run_case(dir, [&](GoldenCaseResult& result) {
    const golden::LoadedCase loaded = golden::load_case(dir);
    result.layer_class = loaded.manifest.value("layer_class", "");
    if (!loaded.manifest.contains("gradients")) {
      result.message = "no gradients: " + loaded.manifest.value("gradients_skipped", "not given");
      return CaseStatus::kSkipped;
    }
    const auto runner = runners().find(result.layer_class);
    if (runner == runners().end()) {
      result.message = "layer class " + result.layer_class + " is not supported";
      return CaseStatus::kSkipped;
    }
    const Config& manifest = loaded.manifest["gradients"];
    const Tensor d_output =
        read_npy_tensor(dir / manifest.at("d_output").at("file").get<std::string>());
    const golden::CaseGradients actual = runner->second.gradients(loaded, d_output);
    const Tolerance tolerance = golden::case_tolerance(manifest);
    for (const Config& file : manifest.at("files")) {
      const std::string path = file.at("file").get<std::string>();
      Tensor gradient;
      if (file.at("kind") == "input") {
        gradient = input_gradient(actual, file);
      } else {
        const auto found = actual.weights.find(file.at("path").get<std::string>());
        if (found == actual.weights.end()) {
          throw Error("the layer has no weight '" + file.at("path").get<std::string>() + "'");
        }
        gradient = found->second;
      }
      result.comparisons.push_back(
          compare_arrays(path, gradient, read_npy_tensor(dir / path), tolerance));
    }
    return golden::verdict(result);
  });
}

}  // namespace kattn
