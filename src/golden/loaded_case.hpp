// A golden case read into memory: its manifest, input tensors, masks and call arguments.
#pragma once

#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kattn/core/config.hpp"
#include "kattn/core/layer.hpp"
#include "kattn/core/tensor.hpp"
#include "kattn/golden_case.hpp"
#include "kattn/layers/attention_gradients.hpp"
#include "kattn/layers/attention_output.hpp"

namespace kattn::golden {

struct LoadedCase {
  std::filesystem::path dir;
  Config manifest;                       // case.json
  Config config;                         // layer.json: the layer's get_config()
  std::vector<std::string> input_names;  // layer_call.inputs order: query, value[, key]
  std::map<std::string, Tensor> inputs;  // by name
  std::map<std::string, Mask> masks;     // by name: query_mask, value_mask, ...
  bool use_causal_mask = false;
  bool return_attention_scores = false;
  bool training = false;

  // The input tensors in call order.
  std::vector<Tensor> ordered_inputs() const;
  // The input's shape, for build().
  std::vector<Shape> input_shapes() const;
  // The mask of that name, if the case has it.
  std::optional<Mask> mask(const std::string& name) const;
};

// Reads case.json, layer.json, the inputs and the masks; FileError on anything malformed.
LoadedCase load_case(const std::filesystem::path& dir);

// Sets every weight listed in case.json `weights` from its .npy file, by Keras path.
void load_case_weights(Layer& layer, const LoadedCase& loaded);

// The case's tolerance (case.json `tolerance`).
Tolerance case_tolerance(const Config& manifest);
// kPassed when every comparison of the result passed, else kFailed.
CaseStatus verdict(const GoldenCaseResult& result);

// Runs the case in `dir`: run(result) fills the result's comparisons and returns its status
// (usually verdict(result)); anything it throws fails the case with its message.
template <typename Run>
GoldenCaseResult run_case(const std::filesystem::path& dir, Run&& run) {
  GoldenCaseResult result;
  result.name = dir.filename().string();
  try {
    result.status = run(result);
  } catch (const std::exception& e) {
    result.status = CaseStatus::kFailed;
    result.message = e.what();
  }
  return result;
}

// Builds the layer the case describes, calls it, returns what it computed.
AttentionOutput run_dense_attention_case(const LoadedCase& loaded);
AttentionOutput run_projected_attention_case(const LoadedCase& loaded);

// What a backward pass through a case's call gives.
struct CaseGradients {
  // By call role ("query", "value", "key"); "value" covers the key role when the case has no
  // key input, and there is then no "key".
  std::map<std::string, Tensor> roles;
  // By Keras variable path ("mha/query/kernel").
  std::map<std::string, Tensor> weights;
};
CaseGradients case_gradients(const Layer& layer, AttentionInputGradients inputs,
                             std::vector<Tensor> weight_gradients);

// Builds the layer the case describes, runs its forward() and backward() with `d_output`.
CaseGradients run_dense_attention_gradients(const LoadedCase& loaded, const Tensor& d_output);
CaseGradients run_projected_attention_gradients(const LoadedCase& loaded, const Tensor& d_output);

}  // namespace kattn::golden
