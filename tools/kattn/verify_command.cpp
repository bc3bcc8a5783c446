// kattn verify: runs golden cases and reports how far kattn is from what Keras computed.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "command_line.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/golden_case.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: kattn verify [--via layer|model] [--gradients] [--verbose] [--custom-layers LIB.so]
                    PATH...

Each PATH is a case directory in the Keras golden format (case.json, layer.json, weights/,
model.keras, inputs and the outputs Keras produced), or a directory whose subdirectories are
cases. Every output is compared elementwise with the case's tolerance:
|actual - expected| <= atol + rtol*|expected|.

  --via layer  (default) the layer is built from layer.json, its weights are loaded from
               weights/ and the call described in case.json is made; output.npy (and
               attention_scores.npy when present) are compared.
  --via model  each case runs from its model.keras, loaded as Keras saved it, on the inputs
               case.json lists. Whole-model cases (a case.json with `model_file`, e.g. the
               golden-models set) run this way whatever --via says; one marked expect_error
               passes only if loading fails with an error naming its unsupported classes.

  --gradients  the layer's forward and backward passes run with the case's d_output.npy as
               the upstream gradient, and every gradient file (grad/query.npy, ...,
               grad/weights/...) is compared with the case's gradient tolerance. Cases
               without gradient files are skipped, with case.json's reason.

A line is printed for every failing case, with its largest error; the last line reads
'N passed, M failed, K skipped' (skipped: layer classes kattn does not support yet).
Exit status: 0 when nothing failed, 1 when a case failed, 2 for bad arguments or paths.

  --verbose   also print a line for every passing and skipped case
)";

std::string describe_failure(const GoldenCaseResult& result) {
  std::ostringstream line;
  line << "FAIL " << result.name << " (" << result.layer_class << ")";
  if (!result.message.empty()) line << ": " << result.message;
  for (const ArrayComparison& c : result.comparisons) {
    if (c.passed) continue;
    line << ": " << c.name;
    if (!c.problem.empty()) line << " " << c.problem;
    char error[32];
    std::snprintf(error, sizeof error, "%.3g", c.max_abs_error);
    line << " largest error " << error << " at " << shape_to_string(c.worst_index);
  }
  return line.str();
}

}  // namespace

int run_verify(const std::vector<std::string>& args) {
  const Arguments arguments(args, {"--via", "--custom-layers"}, {"--verbose", "--gradients"});
  if (arguments.wants_help()) {
    std::cout << kHelp << kCustomLayersHelp;
    return 0;
  }
  load_custom_layer_libraries(arguments);
  if (arguments.positionals().empty()) throw UsageError("expected at least one PATH");
  const std::optional<std::string> via = arguments.value("--via");
  if (via && *via != "layer" && *via != "model") {
    throw UsageError("--via expects 'layer' or 'model', received '" + *via + "'");
  }
  const bool via_model = via == "model";
  const bool gradients = arguments.flag("--gradients");
  if (gradients && via_model) {
    throw UsageError(
        "--gradients runs the layer's backward pass; it does not combine with --via model");
  }

  std::vector<std::filesystem::path> cases;
  for (const std::string& path : arguments.positionals()) {
    for (auto& found : find_golden_cases(path)) cases.push_back(std::move(found));
  }
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& dir : cases) {
    const GoldenCaseResult result = gradients ? run_golden_case_gradients(dir)
                                    : via_model || is_whole_model_case(dir)
                                        ? run_golden_case_via_model(dir)
                                        : run_golden_case(dir);
    switch (result.status) {
      case CaseStatus::kPassed:
        ++passed;
        if (arguments.flag("--verbose")) std::cout << "ok   " << result.name << "\n";
        break;
      case CaseStatus::kSkipped:
        ++skipped;
        if (arguments.flag("--verbose")) {
          std::cout << "skip " << result.name << ": " << result.message << "\n";
        }
        break;
      case CaseStatus::kFailed:
        ++failed;
        std::cout << describe_failure(result) << "\n";
        break;
    }
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace kattn::cli
