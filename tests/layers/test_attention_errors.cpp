// Every error Attention and AdditiveAttention raise, with its exact message, and the rule that
// checks come before any work.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dense_attention_test_util.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn {
namespace {

using testing::expect_error;

TEST(AttentionErrors, InvalidScoreMode) {
  // test_attention_invalid_score_mode, raised by the constructor and by from_config.
  expect_error([] { Attention({.score_mode = "foo"}); },
               "Attention 'attention': Invalid value for argument score_mode. Expected one of "
               "{'dot', 'concat'}. Received: score_mode=foo.");
  expect_error(
      [] {
        (void)Attention::from_config({{"name", "luong"}, {"score_mode", "Dot"}});
      },
      "Attention 'luong': Invalid value for argument score_mode. Expected one of "
      "{'dot', 'concat'}. Received: score_mode=Dot.");
}

TEST(AttentionErrors, DropoutOutsideUnitInterval) {
  // Each unnamed layer takes the next auto name, as in Keras, whether its construction fails.
  expect_error([] { Attention({.dropout = 1.0}); },
               "Attention 'attention': Invalid value for argument `dropout`. Expected a float in "
               "[0, 1). Received: dropout=1.0.");
  expect_error([] { Attention({.dropout = -0.1}); },
               "Attention 'attention_1': Invalid value for argument `dropout`. Expected a float in "
               "[0, 1). Received: dropout=-0.1.");
  expect_error([] { Attention({.dropout = std::numeric_limits<double>::quiet_NaN()}); },
               "Attention 'attention_2': Invalid value for argument `dropout`. Expected a float in "
               "[0, 1). Received: dropout=nan.");
  expect_error([] { AdditiveAttention({.dropout = 2.5e-5 + 1.0}); },
               "AdditiveAttention 'additive_attention': Invalid value for argument `dropout`. "
               "Expected a float in [0, 1). Received: dropout=1.000025.");
  expect_error(
      [] {
        (void)AdditiveAttention::from_config({{"dropout", 100000.0}});
      },
      "AdditiveAttention 'additive_attention_1': Invalid value for argument `dropout`. "
      "Expected a float in [0, 1). Received: dropout=100000.0.");
  EXPECT_NO_THROW(Attention({.dropout = 0.0}));
  EXPECT_NO_THROW(Attention({.dropout = 0.999}));
}

TEST(AttentionErrors, InputsListOfLength2Or3) {
  // test_attention_errors: "length 2 or 3".
  const Tensor t = Tensor::full({1, 2, 2}, 1.0f);
  Attention layer;
  expect_error(
      [&] {
        (void)layer.call({t, t, t, t});
      },
      "Attention 'attention': wrong number of inputs. Expected an inputs list of "
      "length 2 or 3, namely [query, value] or [query, value, key]. Received: "
      "length=4.");
  expect_error([&] { (void)layer.call(std::vector<Tensor>{t}); },
               "Attention 'attention': wrong number of inputs. Expected an inputs list of "
               "length 2 or 3, namely [query, value] or [query, value, key]. Received: "
               "length=1.");
  AdditiveAttention additive;
  expect_error(
      [&] {
        additive.build({{1, 2, 2}});
      },
      "AdditiveAttention 'additive_attention': wrong number of inputs. Expected an "
      "inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
      "Received: length=1.");
  expect_error([&] { (void)additive.compute_output_shape({}); },
               "AdditiveAttention 'additive_attention': wrong number of inputs. Expected an "
               "inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
               "Received: length=0.");
}

TEST(AttentionErrors, RankBelowThree) {
  Attention layer;
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3}), Tensor({2, 4, 3}));
      },
      "Attention 'attention': invalid rank for query. Expected rank 3 or more: "
      "(batch, ..., Tq, dim). Received: query.shape=(2, 3).");
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 4, 3}), Tensor({3}));
      },
      "Attention 'attention': invalid rank for value. Expected rank 3 or more: "
      "(batch, ..., Tv, value_dim). Received: value.shape=(3,).");
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 4, 3}), Tensor({2, 4, 3}), Tensor({4, 3}));
      },
      "Attention 'attention': invalid rank for key. Expected rank 3 or more: "
      "(batch, ..., Tv, dim). Received: key.shape=(4, 3).");
}

TEST(AttentionErrors, MismatchedBatchDimensions) {
  Attention layer;
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3, 5}), Tensor({3, 4, 5}));
      },
      "Attention 'attention': the batch (leading) dimensions of query and value must "
      "be equal. Expected value.shape[:-2] == (2,) (query.shape[:-2]). Received: "
      "value.shape=(3, 4, 5).");
  // A rank difference is a batch-axes difference too.
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3, 5}), Tensor({2, 1, 4, 5}));
      },
      "Attention 'attention': the batch (leading) dimensions of query and value must "
      "be equal. Expected value.shape[:-2] == (2,) (query.shape[:-2]). Received: "
      "value.shape=(2, 1, 4, 5).");
  AdditiveAttention additive;
  expect_error(
      [&] {
        (void)additive.call(Tensor({2, 2, 3, 5}), Tensor({2, 2, 4, 5}), Tensor({2, 3, 4, 5}));
      },
      "AdditiveAttention 'additive_attention': the batch (leading) dimensions of query and key "
      "must be equal. Expected key.shape[:-2] == (2, 2) (query.shape[:-2]). Received: "
      "key.shape=(2, 3, 4, 5).");
}

TEST(AttentionErrors, QueryKeyFeatureMismatch) {
  // Every score mode combines query and key feature by feature.
  for (const std::string mode : {"dot", "concat"}) {
    Attention layer({.score_mode = mode, .name = "attention"});
    expect_error(
        [&] {
          (void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 6}), Tensor({2, 5, 5}));
        },
        "Attention 'attention': the feature dimensions of query and key must be equal. "
        "Expected key.shape[-1] == 4 (query.shape[-1]). Received: key.shape=(2, 5, 5).");
    expect_error(
        [&] {
          (void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 6}));
        },
        "Attention 'attention': the feature dimensions of query and value (used as "
        "key) must be equal. Expected value.shape[-1] == 4 (query.shape[-1]). "
        "Received: value.shape=(2, 5, 6).");
  }
  AdditiveAttention additive({.use_scale = false});
  expect_error(
      [&] {
        (void)additive.call(Tensor({2, 3, 4}), Tensor({2, 5, 3}));
      },
      "AdditiveAttention 'additive_attention': the feature dimensions of query and "
      "value (used as key) must be equal. Expected value.shape[-1] == 4 "
      "(query.shape[-1]). Received: value.shape=(2, 5, 3).");
}

TEST(AttentionErrors, ValueKeyLengthMismatch) {
  Attention layer;
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3, 4}), Tensor({2, 4, 6}), Tensor({2, 5, 4}));
      },
      "Attention 'attention': the lengths of value and key must be equal. Expected "
      "key.shape[-2] == 4 (value.shape[-2]). Received: key.shape=(2, 5, 4).");
}

TEST(AttentionErrors, MaskShapes) {
  Attention layer;
  DenseAttentionCallArgs args;
  args.query_mask = Mask({2, 4});
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 4}), args);
      },
      "Attention 'attention': query_mask has the wrong shape. Expected query.shape[:-1] "
      "= (2, 3). Received: query_mask.shape=(2, 4).");
  args.query_mask.reset();
  args.value_mask = Mask({2, 5, 1});
  expect_error(
      [&] {
        (void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 4}), args);
      },
      "Attention 'attention': value_mask has the wrong shape. Expected value.shape[:-1] "
      "= (2, 5). Received: value_mask.shape=(2, 5, 1).");
  // A mask carries every leading axis of its input: rank-4 inputs take rank-3 masks.
  args.value_mask = Mask({2, 5});
  AdditiveAttention additive;
  expect_error(
      [&] {
        (void)additive.call(Tensor({2, 6, 3, 4}), Tensor({2, 6, 5, 4}), args);
      },
      "AdditiveAttention 'additive_attention': value_mask has the wrong shape. "
      "Expected value.shape[:-1] = (2, 6, 5). Received: value_mask.shape=(2, 5).");
}

TEST(AttentionErrors, WeightsOfTheWrongShape) {
  Attention layer({.use_scale = true, .name = "luong"});
  layer.build({{1, 2, 3}, {1, 4, 3}});
  expect_error([&] { layer.set_weight("luong/scale", Tensor({1})); },
               "Attention 'luong': wrong shape for weight `scale`. Expected shape (). Received: "
               "shape=(1,).");
  AdditiveAttention additive({.name = "bahdanau"});
  additive.build({{1, 2, 3}, {1, 4, 3}});
  expect_error([&] { additive.set_weight("scale", Tensor({4})); },
               "AdditiveAttention 'bahdanau': wrong shape for weight `scale`. Expected shape "
               "(3,). Received: shape=(4,).");
  expect_error([&] { additive.set_weight("bahdanau/concat_score_weight", Tensor(Shape{})); },
               "AdditiveAttention 'bahdanau': no weight of that name. Expected one of: scale. "
               "Received: name=bahdanau/concat_score_weight.");
}

TEST(AttentionErrors, AdditiveQueryDimMustMatchTheBuiltScale) {
  AdditiveAttention layer;
  (void)layer.call(Tensor({1, 2, 3}), Tensor({1, 4, 3}));
  expect_error(
      [&] {
        (void)layer.call(Tensor({1, 2, 5}), Tensor({1, 4, 5}));
      },
      "AdditiveAttention 'additive_attention': the feature dimension of query differs "
      "from the one the layer was built for. Expected query.shape[-1] == 3 (the length "
      "of `scale`). Received: query.shape=(1, 2, 5).");
  // Without a scale weight any dimension is fine, as in Keras.
  AdditiveAttention plain({.use_scale = false});
  (void)plain.call(Tensor({1, 2, 3}), Tensor({1, 4, 3}));
  EXPECT_NO_THROW((void)plain.call(Tensor({1, 2, 5}), Tensor({1, 4, 5})));
}

TEST(AttentionErrors, ConfigWithUnknownKey) {
  expect_error(
      [] {
        (void)Attention::from_config({{"name", "luong"}, {"causal", true}});
      },
      "Attention 'luong': unrecognized keyword arguments in the config. Expected only "
      "the keys of Attention.get_config(). Received: {'causal': true}.");
  // AdditiveAttention.get_config has no score_mode.
  expect_error(
      [] {
        (void)AdditiveAttention::from_config({{"score_mode", "dot"}});
      },
      "AdditiveAttention: unrecognized keyword arguments in the config. Expected only "
      "the keys of AdditiveAttention.get_config(). Received: {'score_mode': \"dot\"}.");
}

TEST(AttentionErrors, ConfigValuesOfTheWrongType) {
  expect_error(
      [] {
        (void)Attention::from_config({{"name", "luong"}, {"seed", "abc"}});
      },
      "Attention 'luong': invalid config value for `seed`. Expected an integer. "
      "Received: seed=\"abc\".");
  expect_error(
      [] {
        (void)Attention::from_config({{"name", "luong"}, {"use_scale", 1}});
      },
      "Attention 'luong': invalid config value for `use_scale`. Expected a boolean. "
      "Received: use_scale=1.");
}

TEST(AttentionErrors, NonFloat32DtypePolicy) {
  const Config policy = {{"module", "keras"},
                         {"class_name", "DTypePolicy"},
                         {"config", {{"name", "mixed_float16"}}},
                         {"registered_name", nullptr}};
  expect_error<NotSupportedError>(
      [&] {
        (void)Attention::from_config({{"name", "luong"}, {"dtype", policy}});
      },
      "Attention 'luong': unsupported dtype policy. Expected one of the supported policies: "
      "float32. Received: dtype=mixed_float16.");
  expect_error<NotSupportedError>(
      [] {
        (void)AdditiveAttention::from_config({{"name", "bahdanau"}, {"dtype", "float64"}});
      },
      "AdditiveAttention 'bahdanau': unsupported dtype policy. Expected one of the supported "
      "policies: float32. Received: dtype=float64.");
}

TEST(AttentionErrors, FailedCallsBuildNothing) {
  // The checks run before the first call builds the layer.
  Attention layer({.use_scale = true});
  DenseAttentionCallArgs args;
  args.value_mask = Mask({2, 3});
  EXPECT_THROW((void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 4}), args), ValueError);
  EXPECT_THROW((void)layer.call(Tensor({2, 3, 4}), Tensor({2, 5, 3})), ValueError);
  EXPECT_FALSE(layer.built());
  EXPECT_TRUE(layer.weights().empty());
  expect_error(
      [&] {
        layer.build({{2, 3}, {2, 5, 4}});
      },
      "Attention 'attention': invalid rank for query. Expected rank 3 or more: "
      "(batch, ..., Tq, dim). Received: query.shape=(2, 3).");
  EXPECT_FALSE(layer.built());
  expect_error(
      [&] {
        (void)layer.compute_output_shape({{2, 3, 4}, {2, 5, 6}});
      },
      "Attention 'attention': the feature dimensions of query and value (used as key) "
      "must be equal. Expected value.shape[-1] == 4 (query.shape[-1]). Received: "
      "value.shape=(2, 5, 6).");
}

}  // namespace
}  // namespace kattn
