// Model::predict_with_attention_scores on Keras-saved models: one entry per attention call in
// execution order, the scores those calls compute, and outputs exactly predict()'s.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kattn/models/model.hpp"
#include "models/model_test_util.hpp"

namespace kattn {
namespace {

using testing::case_inputs;
using testing::golden_models_dir;
using testing::read_case_json;

struct Case {
  Model model;
  std::vector<AnyTensor> inputs;
};

Case golden_case(const std::string& name) {
  const std::filesystem::path dir = golden_models_dir() / name;
  return {load_model(dir / "model.keras"), case_inputs(dir, read_case_json(dir))};
}

void expect_same_outputs(const std::vector<AnyTensor>& actual,
                         const std::vector<AnyTensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(std::get<Tensor>(actual[i]).to_vector(), std::get<Tensor>(expected[i]).to_vector())
        << "output " << i;
  }
}

// The layer names and classes of the scored calls, in order.
std::vector<std::string> calls_of(const Model::ScoredPrediction& prediction) {
  std::vector<std::string> calls;
  for (const Model::AttentionScores& call : prediction.attention_scores) {
    calls.push_back(call.node->operation->class_name() + " " + call.node->operation->name() + " " +
                    shape_to_string(call.scores.shape()));
  }
  return calls;
}

// Each row of probabilities sums to 1.
void expect_rows_sum_to_one(const Tensor& scores) {
  const Tensor rows = scores.reshape({-1, scores.dim(-1)});
  for (int64_t i = 0; i < rows.dim(0); ++i) {
    double sum = 0;
    for (int64_t j = 0; j < rows.dim(1); ++j) sum += rows(i, j);
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << i;
  }
}

// Where a traced run recorded a node.
size_t traced_index(const Model::Trace& trace, const std::shared_ptr<Node>& node) {
  for (size_t n = 0; n < trace.nodes.size(); ++n) {
    if (trace.nodes[n] == node) return n;
  }
  ADD_FAILURE() << "node not traced";
  return 0;
}

TEST(AttentionScores, EveryAttentionCallInExecutionOrder) {
  const Case c = golden_case("multi_attention_named");
  const Model::ScoredPrediction prediction = c.model.predict_with_attention_scores(c.inputs);
  EXPECT_EQ(calls_of(prediction), (std::vector<std::string>{
                                      "Attention first_luong (3, 8, 9)",
                                      "Attention second_luong (3, 8, 9)",
                                      "AdditiveAttention bahdanau_scorer (3, 8, 9)",
                                      "MultiHeadAttention attention (3, 2, 8, 9)",
                                      "MultiHeadAttention additive_attention (3, 2, 8, 8)",
                                  }));
  for (const Model::AttentionScores& call : prediction.attention_scores) {
    expect_rows_sum_to_one(call.scores);
  }
  expect_same_outputs(prediction.outputs, c.model.predict(c.inputs));
}

// The scores are the probabilities the call's output is made of: output = scores . value for
// every query that is not padding (the value's padding, from mask_zero, is masked out), and a
// zero output row for padding queries (Keras's Attention multiplies by the query mask).
TEST(AttentionScores, AreTheProbabilitiesOfTheCall) {
  const Case c = golden_case("text_dot_maskzero");
  const Model::ScoredPrediction prediction = c.model.predict_with_attention_scores(c.inputs);
  ASSERT_EQ(prediction.attention_scores.size(), 1U);
  const Model::AttentionScores& call = prediction.attention_scores[0];
  const Model::Trace trace = c.model.trace(c.inputs);
  const size_t n = traced_index(trace, call.node);
  const KerasTensor value_input = call.node->input_tensors().at(1);  // a copy: a temporary list
  const Tensor value =
      std::get<Tensor>(trace
                           .outputs[traced_index(trace, value_input.node())]
                                   [static_cast<size_t>(value_input.tensor_index())]
                           ->tensor);
  const Tensor output = std::get<Tensor>(trace.outputs[n][0]->tensor);
  const Mask query_mask = trace.input_masks[n].at(0).value();
  const Tensor& scores = call.scores;
  ASSERT_EQ(scores.shape(), (Shape{3, 7, 4}));
  int64_t padding = 0;
  for (int64_t b = 0; b < scores.dim(0); ++b) {
    for (int64_t i = 0; i < scores.dim(1); ++i) {
      padding += query_mask(b, i) ? 0 : 1;
      for (int64_t d = 0; d < value.dim(2); ++d) {
        double sum = 0;
        for (int64_t j = 0; j < scores.dim(2); ++j) sum += scores(b, i, j) * value(b, j, d);
        EXPECT_NEAR(query_mask(b, i) ? sum : 0.0, output(b, i, d), 1e-5)
            << b << ", " << i << ", " << d;
      }
    }
  }
  EXPECT_GT(padding, 0);  // the case has padding queries, whose scores are drawn as well
  expect_rows_sum_to_one(scores);
  expect_same_outputs(prediction.outputs, c.model.predict(c.inputs));
}

// A call that returns its scores itself gives those: here an output of the model.
TEST(AttentionScores, OfACallThatReturnsThemAreItsOwn) {
  for (const char* name : {"text_scores", "enc_mha_scores"}) {
    const Case c = golden_case(name);
    const Model::ScoredPrediction prediction = c.model.predict_with_attention_scores(c.inputs);
    ASSERT_EQ(prediction.attention_scores.size(), 1U) << name;
    EXPECT_EQ(prediction.attention_scores[0].scores.to_vector(),
              std::get<Tensor>(prediction.outputs.back()).to_vector())
        << name;
    expect_same_outputs(prediction.outputs, c.model.predict(c.inputs));
  }
}

// MultiHeadAttention asked for its scores takes Keras's other code path, which changes fully
// masked rows; the outputs must not change, nor the masks the call clears for later layers.
TEST(AttentionScores, LeaveOutputsAndMasksAsPredictHasThem) {
  for (const char* name : {"enc_mha_embed_mask", "enc2_mha_embed_mask", "enc_gqa"}) {
    const Case c = golden_case(name);
    const Model::ScoredPrediction prediction = c.model.predict_with_attention_scores(c.inputs);
    expect_same_outputs(prediction.outputs, c.model.predict(c.inputs));
    ASSERT_FALSE(prediction.attention_scores.empty()) << name;
    for (const Model::AttentionScores& call : prediction.attention_scores) {
      EXPECT_EQ(call.scores.rank(), 4) << name;
    }
  }
}

TEST(AttentionScores, GroupQueryAttentionHasOneMapPerQueryHead) {
  const Case c = golden_case("enc_gqa");
  const Model::ScoredPrediction prediction = c.model.predict_with_attention_scores(c.inputs);
  ASSERT_EQ(prediction.attention_scores.size(), 1U);
  const Tensor& scores = prediction.attention_scores[0].scores;
  EXPECT_EQ(scores.dim(0), 2);
  EXPECT_EQ(scores.dim(2), 9);
  EXPECT_EQ(scores.dim(3), 9);
  expect_rows_sum_to_one(scores);
}

}  // namespace
}  // namespace kattn
