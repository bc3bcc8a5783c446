// The backward of keras.layers.Attention / AdditiveAttention's reference kernels
// (kernels/reference/dense_attention.hpp: attention_backward) against central finite
// differences of attention_forward, in double, for every score function, mask and dropout.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kernels/reference/dense_attention.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

namespace dense = kernels::reference::dense;
using testing::dot_sum;
using testing::gradients_agree;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;

struct Case {
  std::string name;
  dense::Score score = dense::Score::kDot;
  bool with_scale = false;
  bool query_mask = false, value_mask = false, causal = false;
  double dropout = 0.0;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  const std::pair<dense::Score, const char*> scores[] = {{dense::Score::kDot, "dot"},
                                                         {dense::Score::kConcat, "concat"},
                                                         {dense::Score::kAdditive, "additive"}};
  for (const auto& [score, name] : scores) {
    for (const bool with_scale : {false, true}) {
      const std::string base = std::string(name) + (with_scale ? "_scale" : "");
      out.push_back({.name = base, .score = score, .with_scale = with_scale});
      out.push_back({.name = base + "_masks_causal",
                     .score = score,
                     .with_scale = with_scale,
                     .query_mask = true,
                     .value_mask = true,
                     .causal = true});
      out.push_back({.name = base + "_dropout",
                     .score = score,
                     .with_scale = with_scale,
                     .value_mask = true,
                     .dropout = 0.4});
    }
  }
  return out;
}

TEST(DenseAttentionBackward, ReferenceAgreesWithFiniteDifferencesInDouble) {
  const dense::Dims dims{.batch = 2, .tq = 4, .tv = 5, .dim = 3, .value_dim = 2};
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    TensorF64 query = random_normal<double>({2, 4, 3}, 1);
    TensorF64 key = random_normal<double>({2, 5, 3}, 2);
    TensorF64 value = random_normal<double>({2, 5, 2}, 3);
    TensorF64 scale =
        c.score == dense::Score::kAdditive ? random_normal<double>({3}, 4) : TensorF64({}, {0.7});
    TensorF64 weight({}, {1.3});  // concat_score_weight
    const TensorF64 d_output = random_normal<double>({2, 4, 2}, 5);
    // Every row keeps its first key, so no row is fully masked (its -1e9 softmax is not
    // differentiable, see the golden README).
    Mask query_mask = random_mask({2, 4}, 6), value_mask = random_mask({2, 5}, 7);
    for (int64_t b = 0; b < 2; ++b) value_mask(b, 0) = true;

    dense::ScoreWeights<double> weights{.score = c.score,
                                        .scale = c.with_scale ? scale.data() : nullptr,
                                        .concat_score_weight = weight.data()};
    const dense::ApplyScoresArgs args{.query_mask = c.query_mask ? query_mask.data() : nullptr,
                                      .value_mask = c.value_mask ? value_mask.data() : nullptr,
                                      .use_causal_mask = c.causal,
                                      .dropout_rate = c.dropout,
                                      .dropout_key = 77};
    const auto loss = [&] {
      TensorF64 scores({2, 4, 5}), output({2, 4, 2});
      dense::attention_forward(dims, weights, args, query.data(), key.data(), value.data(),
                               scores.data(), output.data());
      return dot_sum(output, d_output);
    };

    TensorF64 d_query(query.shape()), d_key(key.shape()), d_value(value.shape());
    TensorF64 d_scale(scale.shape()), d_weight(weight.shape());
    std::vector<double> workspace(
        static_cast<size_t>(dense::attention_backward_workspace_size(dims)));
    dense::attention_backward(dims, weights, args, query.data(), key.data(), value.data(),
                              d_output.data(),
                              {.d_query = d_query.data(),
                               .d_key = d_key.data(),
                               .d_value = d_value.data(),
                               .d_scale = c.with_scale ? d_scale.data() : nullptr,
                               .d_concat_score_weight = d_weight.data()},
                              workspace.data());

    EXPECT_TRUE(gradients_agree(d_query, numeric_gradient(query, loss, 1e-6), 1e-7, 1e-6));
    EXPECT_TRUE(gradients_agree(d_key, numeric_gradient(key, loss, 1e-6), 1e-7, 1e-6));
    EXPECT_TRUE(gradients_agree(d_value, numeric_gradient(value, loss, 1e-6), 1e-7, 1e-6));
    if (c.with_scale) {
      EXPECT_TRUE(gradients_agree(d_scale, numeric_gradient(scale, loss, 1e-6), 1e-7, 1e-6));
    }
    if (c.score == dense::Score::kConcat) {
      EXPECT_TRUE(gradients_agree(d_weight, numeric_gradient(weight, loss, 1e-6), 1e-7, 1e-6));
    }
  }
}

}  // namespace
}  // namespace kattn
