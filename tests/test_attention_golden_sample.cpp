// A few Keras 3.16 golden cases of Attention and AdditiveAttention, run through the layers'
// public API (the rank-4 cases, the float32 rounding of fully masked rows, every mask and
// option at once, self-attention). The whole golden set has its own runner.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "kattn/io/npy.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn {
namespace {

namespace fs = std::filesystem;

void expect_within_tolerance(const std::string& what, const Tensor& actual, const Tensor& expected,
                             double atol, double rtol) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const std::vector<float> a = actual.to_vector();
  const std::vector<float> e = expected.to_vector();
  for (size_t n = 0; n < a.size(); ++n) {
    const double error = std::fabs(static_cast<double>(a[n]) - static_cast<double>(e[n]));
    EXPECT_LE(error, atol + rtol * std::fabs(static_cast<double>(e[n])))
        << what << " at flat index " << n << ": " << a[n] << " vs " << e[n];
  }
}

class DenseAttentionGoldenSample : public ::testing::TestWithParam<std::string> {};

TEST_P(DenseAttentionGoldenSample, MatchesKeras) {
  const fs::path dir = fs::path(KATTN_TEST_DATA_DIR) / "golden" / GetParam();
  std::ifstream manifest(dir / "case.json");
  ASSERT_TRUE(manifest) << dir;
  const Config spec = Config::parse(manifest);

  std::unique_ptr<DenseAttention> layer;
  if (spec["layer_class"] == "Attention") {
    layer = Attention::from_config(spec["config"]);
  } else {
    layer = AdditiveAttention::from_config(spec["config"]);
  }
  EXPECT_EQ(layer->get_config(), spec["config"]);

  std::vector<Tensor> inputs;
  std::vector<Shape> shapes;
  for (const Config& input : spec["layer_call"]["inputs"]) {
    inputs.push_back(read_npy_tensor(dir / input["file"].get<std::string>()));
    shapes.push_back(inputs.back().shape());
  }
  DenseAttentionCallArgs args;
  for (const Config& mask : spec["layer_call"]["masks"]) {
    const Mask values = read_npy_mask(dir / mask["file"].get<std::string>());
    (mask["name"] == "query_mask" ? args.query_mask : args.value_mask) = values;
  }
  args.use_causal_mask = spec["call_args"]["use_causal_mask"];
  args.return_attention_scores = spec["call_args"]["return_attention_scores"];
  args.training = spec["call_args"]["training"];

  layer->build(shapes);
  ASSERT_EQ(layer->weights().size(), spec["weights"].size());
  for (const Config& weight : spec["weights"]) {
    layer->set_weight(weight["path"].get<std::string>(),
                      read_npy_tensor(dir / weight["file"].get<std::string>()));
  }
  const AttentionOutput out = layer->call(inputs, args);

  const double atol = spec["tolerance"]["atol"];
  const double rtol = spec["tolerance"]["rtol"];
  expect_within_tolerance("output", out.output, read_npy_tensor(dir / "output.npy"), atol, rtol);
  ASSERT_EQ(out.attention_scores.has_value(), fs::exists(dir / "attention_scores.npy"));
  if (out.attention_scores) {
    expect_within_tolerance("attention_scores", *out.attention_scores,
                            read_npy_tensor(dir / "attention_scores.npy"), atol, rtol);
  }
}

INSTANTIATE_TEST_SUITE_P(Keras, DenseAttentionGoldenSample,
                         ::testing::Values("attention_fullmask_dot_bigscores",
                                           "attention_4d_dot_scale", "attention_4d_concat_causal",
                                           "attention_dot_scale1_key1_qm1_vm1_causal1_scores1",
                                           "attention_concat_scale1_key1_qm1_vm1_causal1_scores1",
                                           "attention_self_dot_causal", "attention_dot_tv1",
                                           "attention_dropout_inference", "additive_4d",
                                           "additive_fullmask_scale1",
                                           "additive_scale1_key1_qm1_vm1_causal1_scores1",
                                           "additive_tq1_tv1"));

}  // namespace
}  // namespace kattn
