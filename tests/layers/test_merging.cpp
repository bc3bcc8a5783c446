// Add, Multiply and Concatenate: Keras's configs, broadcasting, Keras's mask rules, and Keras's
// own numbers from the golden models.
#include <gtest/gtest.h>

#include "kattn/layers/merging.hpp"
#include "layer_test_util.hpp"

namespace kattn {
namespace {

using testing::expect_close;
using testing::golden_intermediate;
using testing::golden_models_dir;
using testing::message_of;

const Config& kDtype = testing::float32_dtype();

// The block1_attn_residual entry of enc_mha/model.keras config.json (shared_object_id dropped).
const Config kResidual = {{"name", "block1_attn_residual"}, {"trainable", true}, {"dtype", kDtype}};
// The concat entry of text_dot/model.keras config.json.
const Config kConcat = {{"name", "concat"}, {"trainable", true}, {"dtype", kDtype}, {"axis", -1}};

Tensor golden(const std::string& case_name, const std::string& file) {
  return std::get<Tensor>(golden_intermediate(case_name, file));
}

const Tensor kA({2, 2}, {1, 2, 3, 4});
const Tensor kB({2, 2}, {10, 20, 30, 40});
const Mask kM1({2, 2}, {true, false, false, false});
const Mask kM2({2, 2}, {false, false, true, false});

TEST(Add, GoldenConfigRoundTripsAndDefaults) {
  EXPECT_EQ(Add::from_config(kResidual)->get_config(), kResidual);
  EXPECT_EQ(Add().name(), "add");
  EXPECT_EQ(Multiply().name(), "multiply");
  Config multiply = kResidual;
  multiply["name"] = "gate";
  EXPECT_EQ(Multiply::from_config(multiply)->get_config(), multiply);
  EXPECT_EQ(Multiply::from_config(multiply)->class_name(), "Multiply");
  Config extra = kResidual;
  extra["axis"] = -1;
  EXPECT_EQ(message_of<ValueError>([&] { Add::from_config(extra); }),
            "Add 'block1_attn_residual': unrecognized keyword arguments in the config. Expected "
            "only the keys of Add.get_config(). Received: {'axis': -1}.");
}

TEST(Add, SumsAndProductsInInputOrder) {
  EXPECT_EQ(Add().call({kA, kB}).to_vector(), (std::vector<float>{11, 22, 33, 44}));
  EXPECT_EQ(Add().call({kA, kB, kA}).to_vector(), (std::vector<float>{12, 24, 36, 48}));
  EXPECT_EQ(Multiply().call({kA, kB}).to_vector(), (std::vector<float>{10, 40, 90, 160}));
  EXPECT_EQ(Add().call({kA}).to_vector(), kA.to_vector());
  // The output is a fresh tensor, not the first input.
  Tensor first = kA.clone();
  Add().call({first})(0, 0) = 100;
  EXPECT_EQ(first(0, 0), 1.0f);
}

TEST(Add, BroadcastsLikeKeras) {
  // A lower-rank input gets axes after the batch axis: (2, 2) -> (2, 1, 2) against (2, 3, 2).
  Tensor x({2, 3, 2});
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
  const Tensor sum = Add().call({x, kB});
  EXPECT_EQ(sum.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(sum(1, 2, 1), 11.0f + 40.0f);
  // Axes of length 1 stretch.
  const Tensor column({2, 1}, {2, 3});
  EXPECT_EQ(Multiply().call({kA, column}).to_vector(), (std::vector<float>{2, 4, 9, 12}));
  EXPECT_EQ(Add().compute_output_shape({{-1, 3, 1}, {-1, 1, 4}}), (Shape{-1, 3, 4}));
  EXPECT_EQ(Add().compute_output_shape({{2, -1, 4}, {-1, 5, 4}}), (Shape{2, -1, 4}));
  EXPECT_EQ(Add().compute_output_shape({{-1, 5, 4}, {-1, 4}}), (Shape{-1, 5, 4}));
}

TEST(Add, MaskIsTheOrOnlyWhenEveryInputHasOne) {
  Add add;
  const std::optional<Mask> both = add.compute_mask({kA, kB}, {kM1, kM2});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->to_vector(), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(add.compute_mask({kA, kB}, {kM1, std::nullopt}), std::nullopt);
  EXPECT_EQ(add.compute_mask({kA, kB}, {}), std::nullopt);  // Keras's mask=None
  EXPECT_TRUE(Multiply().compute_mask({kA, kB}, {kM1, kM2}));
  EXPECT_EQ(message_of<ValueError>([&] {
              add.compute_mask({kA, kB}, {kM1});
            }),
            "Add 'add': The lists `inputs` and `mask` should have the same length. Expected 2 "
            "masks, one per input. Received: mask of length 1.");
}

TEST(Add, ShapeErrors) {
  Add add({.name = "sum"});
  EXPECT_EQ(message_of<ValueError>([&] { add.call({}); }),
            "Add 'sum': A merge layer should be called on a list of at least 1 input. Expected a "
            "list of at least 1 input. Received: 0 inputs.");
  EXPECT_EQ(message_of<ValueError>([&] {
              add.call({kA, Tensor({2, 3})});
            }),
            "Add 'sum': Inputs have incompatible shapes. Expected shapes that broadcast (equal "
            "dimensions or 1, aligned on the right). Received: input_shape=[(2, 2), (2, 3)].");
  EXPECT_EQ(message_of<ValueError>([&] {
              add.build({{2, 2}, {3, 2}});
            }),
            "Add 'sum': Cannot merge tensors with different batch sizes. Expected one batch size. "
            "Received: input_shape=[(2, 2), (3, 2)].");
  EXPECT_FALSE(add.built());
  add.build({{-1, 2}, {3, 2}});
  EXPECT_TRUE(add.built());
}

TEST(Add, KerasNumbersFromEncoders) {
  const auto add = Add::from_config(kResidual);
  const Tensor embeddings = read_npy_tensor(golden_models_dir() / "enc_mha" / "embeddings.npy");
  expect_close(add->call({embeddings, golden("enc_mha", "block1_attn_dropout.0.0")}),
               golden("enc_mha", "block1_attn_residual.0.0"));
  expect_close(add->call({golden("enc_mha", "block1_attn_norm.0.0"),
                          golden("enc_mha", "block1_ffn_dropout.0.0")}),
               golden("enc_mha", "block1_ffn_residual.0.0"));
  // enc2_mha_embed_mask: the embedding's mask was cleared by the MHA, the dropout output keeps
  // one: [no mask, mask] gives no mask.
  const Mask mask = read_npy_mask(golden_models_dir() / "enc2_mha_embed_mask" / "intermediates" /
                                  "block1_attn_residual.0.in1.mask.npy");
  const Tensor x = golden("enc2_mha_embed_mask", "token_embedding.0.0");
  EXPECT_EQ(add->compute_mask({x, x}, {std::nullopt, mask}), std::nullopt);
}

TEST(Concatenate, GoldenConfigRoundTripsAndDefaults) {
  EXPECT_EQ(Concatenate::from_config(kConcat)->get_config(), kConcat);
  Concatenate defaults;
  EXPECT_EQ(defaults.name(), "concatenate");
  EXPECT_EQ(defaults.axis(), -1);
  Config first = kConcat;
  first["axis"] = 1;
  EXPECT_EQ(Concatenate::from_config(first)->axis(), 1);
}

TEST(Concatenate, JoinsAlongTheAxis) {
  EXPECT_EQ(Concatenate().call({kA, kB}).to_vector(),
            (std::vector<float>{1, 2, 10, 20, 3, 4, 30, 40}));
  EXPECT_EQ(Concatenate({.axis = 0}).call({kA, kB}).to_vector(),
            (std::vector<float>{1, 2, 3, 4, 10, 20, 30, 40}));
  const Tensor wide({2, 3}, {5, 6, 7, 8, 9, 0});
  const Tensor joined = Concatenate({.axis = 1}).call({kA, wide});
  EXPECT_EQ(joined.shape(), (Shape{2, 5}));
  EXPECT_EQ(joined.to_vector(), (std::vector<float>{1, 2, 5, 6, 7, 3, 4, 8, 9, 0}));
  EXPECT_EQ(Concatenate().compute_output_shape({{-1, 6}, {-1, 6}}), (Shape{-1, 12}));
  EXPECT_EQ(Concatenate({.axis = 1}).compute_output_shape({{-1, -1, 8}, {-1, 5, 8}}),
            (Shape{-1, -1, 8}));
  EXPECT_EQ(Concatenate({.axis = 1}).compute_output_shape({{-1, 4, 8}, {2, 5, 8}}),
            (Shape{-1, 9, 8}));
}

TEST(Concatenate, MaskRules) {
  // (B, T, D) inputs with (B, T) masks.
  const Tensor x({1, 2, 3});
  const Tensor y({1, 2, 1});
  const Mask mx({1, 2}, {true, false});
  const Mask my({1, 2}, {false, false});
  Concatenate last;
  EXPECT_EQ(last.compute_mask({x, y}, {std::nullopt, std::nullopt}), std::nullopt);
  EXPECT_EQ(last.compute_mask({x, y}, {}), std::nullopt);
  // Along the last axis, any() over it ORs the masks; an unmasked input counts as all true.
  EXPECT_EQ(last.compute_mask({x, y}, {mx, my})->to_vector(), (std::vector<bool>{true, false}));
  EXPECT_EQ(last.compute_mask({x, y}, {std::nullopt, my})->to_vector(),
            (std::vector<bool>{true, true}));
  // Along the time axis the masks are joined; ones stand in for a missing one.
  Concatenate time({.axis = 1});
  const Mask joined = *time.compute_mask({x, x}, {mx, std::nullopt});
  EXPECT_EQ(joined.shape(), (Shape{1, 4}));
  EXPECT_EQ(joined.to_vector(), (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(message_of<ValueError>([&] {
              time.compute_mask({x, x}, {Mask({1, 3}), mx});
            }),
            "Concatenate 'concatenate_1': A mask does not fit its input. Expected a mask of shape "
            "(1, 2). Received: mask_shape=(1, 3) for input_shape=(1, 2, 3).");
}

TEST(Concatenate, KerasNumbersFromTextDot) {
  const auto concat = Concatenate::from_config(kConcat);
  for (const char* case_name : {"text_dot", "text_dot_maskzero"}) {
    expect_close(concat->call({golden(case_name, "query_pool.0.0"),
                               golden(case_name, "attention_pool.0.0")}),
                 golden(case_name, "concat.0.0"));
  }
}

TEST(Concatenate, ShapeErrors) {
  Concatenate concat({.name = "cat"});
  EXPECT_EQ(message_of<ValueError>([&] { concat.call({}); }),
            "Concatenate 'cat': A `Concatenate` layer should be called on a list of at least 1 "
            "input. Expected a list of at least 1 input. Received: input_shape=[].");
  EXPECT_EQ(message_of<ValueError>([&] {
              concat.call({kA, Tensor({3, 2})});
            }),
            "Concatenate 'cat': A `Concatenate` layer requires inputs with matching shapes except "
            "for the concatenation axis. Expected equal ranks and equal dimensions off axis=-1. "
            "Received: input_shape=[(2, 2), (3, 2)].");
  EXPECT_EQ(message_of<ValueError>([&] {
              concat.build({{-1, 6}, {-1, 2, 6}});
            }),
            "Concatenate 'cat': A `Concatenate` layer requires inputs with matching shapes except "
            "for the concatenation axis. Expected equal ranks and equal dimensions off axis=-1. "
            "Received: input_shape=[(None, 6), (None, 2, 6)].");
  EXPECT_EQ(message_of<ValueError>([] {
              Concatenate({.axis = 2}).call({kA, kB});
            }),
            "Concatenate 'concatenate': `axis` is out of bounds for the inputs. Expected an axis "
            "in [-2, 2). Received: axis=2, input_shape=[(2, 2), (2, 2)].");
}

}  // namespace
}  // namespace kattn
