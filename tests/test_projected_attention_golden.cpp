// A sample of the MultiHeadAttention / GroupQueryAttention golden cases produced by Keras 3.16
// (tests/data/golden/README.md): config, build shapes, weights by Keras path, masks as the case
// passes them, outputs and attention scores within the case's tolerance.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "kattn/io/npy.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(KATTN_TEST_DATA_DIR) / "golden"; }

Config read_json(const fs::path& path) {
  std::ifstream in(path);
  return Config::parse(in);
}

Shape build_shape(const Config& dims) {
  Shape shape;
  for (const Config& dim : dims) shape.push_back(dim.is_null() ? -1 : dim.get<int64_t>());
  return shape;
}

// Builds the layer as the case's build_shapes say, loads its weights by Keras path, calls it
// with the case's inputs and masks, and checks outputs and the config round trip.
template <typename LayerT>
void check_case(const std::string& name) {
  const fs::path dir = golden_dir() / name;
  const Config manifest = read_json(dir / "case.json");
  const Config layer_json = read_json(dir / "layer.json");
  const std::unique_ptr<LayerT> layer = LayerT::from_config(layer_json);

  const Config& shapes = manifest["build_shapes"];
  std::optional<Shape> key_shape;
  if (shapes.contains("key")) key_shape = build_shape(shapes["key"]);
  layer->build(build_shape(shapes["query"]), build_shape(shapes["value"]), key_shape);
  for (const Config& weight : manifest["weights"]) {
    layer->set_weight(weight["path"].get<std::string>(),
                      read_npy_tensor(dir / weight["file"].get<std::string>()));
  }
  EXPECT_EQ(layer->get_config(), layer_json);

  std::vector<Tensor> inputs;
  for (const Config& input : manifest["layer_call"]["inputs"]) {
    inputs.push_back(read_npy_tensor(dir / input["file"].get<std::string>()));
  }
  ProjectedAttentionCallArgs args;
  if (inputs.size() > 2) args.key = inputs[2];
  for (const Config& entry : manifest["layer_call"]["masks"]) {
    const Mask mask = read_npy_mask(dir / entry["file"].get<std::string>());
    const std::string mask_name = entry["name"];
    if (mask_name == "query_mask") {
      args.query_mask = mask;
      // A query Keras mask (MultiHeadAttention's cases) on self-attention is the value's
      // Keras mask too; GroupQueryAttention's cases pass query_mask= as a keyword instead.
      const bool keras_mask =
          entry["passed_as"].get<std::string>().find("Keras mask") != std::string::npos;
      if (keras_mask &&
          manifest["layer_call"]["inputs"][1].value("same_tensor_as", "") == "query") {
        args.value_mask = mask;
      }
    } else if (mask_name == "value_mask") {
      args.value_mask = mask;
    } else if (mask_name == "key_mask") {
      args.key_mask = mask;
    } else {
      args.attention_mask = mask;
    }
  }
  args.use_causal_mask = manifest["call_args"]["use_causal_mask"];
  args.return_attention_scores = manifest["call_args"]["return_attention_scores"];
  args.training = manifest["call_args"]["training"];

  const AttentionOutput result = layer->call(inputs[0], inputs[1], args);
  const double atol = manifest["tolerance"]["atol"];
  const double rtol = manifest["tolerance"]["rtol"];
  EXPECT_TRUE(testing::all_close(result.output, read_npy_tensor(dir / "output.npy"), atol, rtol));
  ASSERT_EQ(result.attention_scores.has_value(), fs::exists(dir / "attention_scores.npy"));
  if (result.attention_scores) {
    EXPECT_TRUE(testing::all_close(*result.attention_scores,
                                   read_npy_tensor(dir / "attention_scores.npy"), atol, rtol));
  }
}

class ProjectedAttentionGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(ProjectedAttentionGolden, MatchesKeras) {
  const std::string name = GetParam();
  if (name.rfind("mha_", 0) == 0) {
    check_case<MultiHeadAttention>(name);
  } else {
    check_case<GroupedQueryAttention>(name);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sample, ProjectedAttentionGolden,
    ::testing::Values(
        // Every mask kind at once, on both code paths.
        "mha_qvamask_scores0", "mha_qvamask_scores1",
        // A query Keras mask on self-attention (also the value's mask).
        "mha_self_kerasmask_scores0",
        // Fully masked rows: uniform on the fused path, zero on the einsum path and with
        // dropout configured at inference.
        "mha_fullmask_scores0", "mha_fullmask_scores1", "mha_fullmask_dropout_inference",
        // Per-head masks, rank-4 inputs over one and two axes, output_shape tuple, gate,
        // separate key with its own dimension, sliding window without causal.
        "mha_amask_perhead_scores0", "mha_4d_axes2_amask", "mha_4d_axes12_self",
        "mha_outshape_tuple_scores1", "mha_gate_scores0", "mha_cross_key_scores1",
        "mha_slidingwindow3_nocausal",
        // Grouped heads 8/2, all masks, per-head masks, causal sliding window, causal Tq > Tv.
        "gqa_q8kv2_hd3_scores1", "gqa_qvkamask_scores0", "gqa_amask_perhead_scores1",
        "gqa_slidingwindow_causal_scores0", "gqa_tq_gt_tv_causal", "gqa_fullmask_scores0",
        "gqa_fullmask_dropout_inference", "gqa_gate_scores1", "gqa_nobias_key_scores0",
        "gqa_causal_qmask_scores1"),
    [](const ::testing::TestParamInfo<const char*>& param_info) {
      return std::string(param_info.param);
    });

}  // namespace
}  // namespace kattn
