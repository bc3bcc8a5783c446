// The keras.ops nodes that move, reduce and multiply tensors (Transpose, Reshape, Squeeze,
// GetItem, Mean, Sum, Matmul) and keras.ops.nn's Softmax and Gelu: numpy's semantics on
// concrete tensors, the C++ builders (kattn/ops/keras_ops.hpp) recording what Keras records,
// and the errors for arguments kattn does not understand. Their golden cases run with the
// golden zoo (test_golden_models.cpp); their backward is in test_operation_backward.cpp.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "kattn/io/keras_archive.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/ops/keras_ops.hpp"
#include "models/model_test_util.hpp"
#include "models/operation_registry.hpp"

namespace kattn {
namespace {

using keras_ops::Ellipsis;
using keras_ops::NewAxis;
using keras_ops::Slice;
using testing::message_of;

std::vector<float> run(const Model& model, const Tensor& x) {
  return std::get<Tensor>(model.predict({x}).front()).to_vector();
}

Tensor arange(const Shape& shape) {
  Tensor x(shape);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
  return x;
}

// keras.io-style attention written with keras.ops (the zoo's ops_attention_by_hand):
// softmax(q k^T / 2) v, in C++.
TEST(KerasOps, BuildersRecordWhatKerasRecorded) {
  const KerasTensor x = Input({.shape = {-1, 5}, .name = "x"});
  const KerasTensor k = make_layer<Dense>({.units = 4, .name = "k"})(x);
  const KerasTensor q = make_layer<Dense>({.units = 4, .name = "q"})(x);
  const KerasTensor scores =
      keras_ops::matmul(q, keras_ops::transpose(k, std::vector<int64_t>{0, 2, 1})) / 2.0;
  const KerasTensor weights = keras_ops::softmax(scores);
  const KerasTensor v = make_layer<Dense>({.units = 4, .name = "v"})(x);
  const KerasTensor out =
      make_layer<Dense>({.units = 5, .name = "out"})(keras_ops::matmul(weights, v));
  const Model model(x, {weights, out}, "ops_attention");
  const KerasArchiveReader file = KerasArchiveReader::open(
      testing::data_dir() / "golden-zoo/ops_attention_by_hand/model.keras");
  const Config keras = testing::without_shared_ids(file.config());
  EXPECT_EQ(testing::with_names_of(model.to_config(), keras), keras);
}

TEST(KerasOps, GetItemIndexesAsNumpy) {
  const KerasTensor x = Input({.shape = {3, 4}, .name = "x"});
  const Tensor values = arange({2, 3, 4});
  // x[:, 0, :]
  EXPECT_EQ(run(Model(x, keras_ops::get_item(x, {Slice{}, 0, Slice{}})), values),
            (std::vector<float>{0, 1, 2, 3, 12, 13, 14, 15}));
  // x[..., -1]
  EXPECT_EQ(run(Model(x, keras_ops::get_item(x, {Ellipsis{}, -1})), values),
            (std::vector<float>{3, 7, 11, 15, 19, 23}));
  // x[:, ::-2, 1:3]
  EXPECT_EQ(run(Model(x, keras_ops::get_item(
                             x, {Slice{}, Slice{std::nullopt, std::nullopt, -2}, Slice{1, 3}})),
                values),
            (std::vector<float>{9, 10, 1, 2, 21, 22, 13, 14}));
  // x[:, None, 1]: a new axis
  const KerasTensor expanded = keras_ops::get_item(x, {Slice{}, NewAxis{}, 1});
  EXPECT_EQ(expanded.shape(), (Shape{-1, 1, 4}));
  EXPECT_EQ(run(Model(x, expanded), values), (std::vector<float>{4, 5, 6, 7, 16, 17, 18, 19}));
  const std::string bounds = message_of<ValueError>([&] { keras_ops::get_item(x, {Slice{}, 3}); });
  EXPECT_EQ(bounds.rfind("GetItem 'get_item", 0), 0u) << bounds;
  EXPECT_NE(bounds.find(": index out of bounds. Expected an index in [-3, 3) on axis 1. "
                        "Received: key=[:, 3] for x of shape (None, 3, 4)."),
            std::string::npos)
      << bounds;
  EXPECT_NE(message_of<ValueError>([&] {
              keras_ops::get_item(x, {0, 0, 0, 0});
            }).find("too many indices for the array"),
            std::string::npos);
}

TEST(KerasOps, ShapesReductionsAndProducts) {
  const KerasTensor x = Input({.shape = {2, 3}, .name = "x"});
  const Tensor values = arange({1, 2, 3});
  EXPECT_EQ(keras_ops::reshape(x, {-1, 6}).shape(), (Shape{-1, 6}));
  EXPECT_EQ(run(Model(x, keras_ops::transpose(x)), values),  // axes reversed
            (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(keras_ops::squeeze(keras_ops::expand_dims(x, 1), std::vector<int64_t>{1}).shape(),
            (Shape{-1, 2, 3}));
  EXPECT_EQ(run(Model(x, keras_ops::mean(x, std::vector<int64_t>{1, 2})), values),
            (std::vector<float>{2.5f}));
  EXPECT_EQ(run(Model(x, keras_ops::sum(x, std::vector<int64_t>{2}, true)), values),
            (std::vector<float>{3, 12}));
  // (1, 2, 3) @ (3,): the vector's axis dropped
  const KerasTensor w = Input({.shape = {3}, .name = "w"});
  const Model dot({x, w}, {keras_ops::matmul(x, keras_ops::get_item(w, {0}))}, "dot");
  EXPECT_EQ(std::get<Tensor>(dot.predict({values, Tensor({1, 3}, {1, 0, -1})}).front()).to_vector(),
            (std::vector<float>{-2, -2}));
  // Sum of a bool mask is int32, its Mean float32 (Keras's dtypes).
  const KerasTensor ids = Input({.shape = {4}, .dtype = DType::kInt32, .name = "ids"});
  EXPECT_EQ(keras_ops::sum(ids != 0).dtype(), DType::kInt32);
  EXPECT_EQ(keras_ops::mean(ids != 0).dtype(), DType::kFloat32);
  EXPECT_EQ(keras_ops::cast(ids != 0, DType::kFloat32).dtype(), DType::kFloat32);
}

TEST(KerasOps, GeluBothForms) {
  const KerasTensor x = Input({.shape = {3}, .name = "x"});
  const Tensor values({1, 3}, {-1.0f, 0.5f, 2.0f});
  const std::vector<float> tanh_form = run(Model(x, keras_ops::gelu(x)), values);
  const std::vector<float> erf_form = run(Model(x, keras_ops::gelu(x, false)), values);
  // keras.ops.gelu in Keras 3 (numpy backend)
  const std::vector<float> keras_tanh = {-0.15880799293518066f, 0.3457140326499939f,
                                         1.9545977115631104f};
  const std::vector<float> keras_erf = {-0.15865525603294373f, 0.3457312285900116f,
                                        1.9544997215270996f};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(tanh_form[i], keras_tanh[i], 1e-6);
    EXPECT_NEAR(erf_form[i], keras_erf[i], 1e-6);
  }
}

TEST(KerasOps, RefuseArgumentsTheyDoNotUnderstand) {
  const auto op = [](const std::string& module, const std::string& class_name, Config extra) {
    Config config = std::move(extra);
    config["name"] = "op";
    return detail::operation_from_config(
        Config{{"class_name", class_name}, {"module", module}, {"config", config}});
  };
  const KerasTensor x = Input({.shape = {2, 3}, .name = "x"});
  const auto call = [&](const std::shared_ptr<Operation>& operation) {
    NodeArguments<KerasTensor> args;
    args.args = {NodeArg<KerasTensor>::tensor(x)};
    call_symbolic(operation, std::move(args));
  };
  const Model reshaped(x, keras_ops::reshape(x, {-1, 4}));
  const std::string reshape_error = message_of<ValueError>([&] {
    reshaped.predict({Tensor({1, 2, 3})});
  });
  EXPECT_NE(reshape_error.find(": cannot reshape array of size 6 into shape (-1, 4). Expected a "
                               "newshape of 6 elements. Received: x of shape (1, 2, 3)."),
            std::string::npos)
      << reshape_error;
  EXPECT_EQ(message_of<ValueError>([&] {
              call(op("keras.src.ops.numpy", "Transpose", {{"axes", Config({0, 1})}}));
            }),
            "Transpose 'op': axes don't match array. Expected a permutation of the 3 axes. "
            "Received: axes=[0,1].");
  EXPECT_EQ(message_of<ValueError>([&] {
              call(op("keras.src.ops.numpy", "Squeeze", {{"axis", 1}}));
            }),
            "Squeeze 'op': cannot select an axis to squeeze out which has size not equal to one. "
            "Expected axes of length 1. Received: axis=1 for x of shape (None, 2, 3).");
  EXPECT_EQ(message_of<ValueError>([&] {
              op("keras.src.ops.nn", "Softmax", {{"axis", nullptr}});
            }),
            "Softmax 'op': invalid config value for `axis`. Expected an int or a list of ints. "
            "Received: axis=null.");
  // A tensor in an indexing key (x[ids]) is advanced indexing: refused by name.
  NodeArguments<KerasTensor> tensor_key;
  tensor_key.args = {NodeArg<KerasTensor>::tensor(x), NodeArg<KerasTensor>::tensor(x)};
  EXPECT_EQ(message_of<NotSupportedError>([&] {
              call_symbolic(op("keras.src.ops.numpy", "GetItem", Config::object()),
                            std::move(tensor_key));
            }),
            "GetItem 'op': unsupported index in `key`. Expected ints, slices, None and Ellipsis. "
            "Received: a tensor.");
  const KerasTensor y = Input({.shape = {4, 2}, .name = "y"});
  EXPECT_NE(message_of<ValueError>([&] {
              keras_ops::matmul(x, y);
            }).find("matmul: the operands' inner dimensions differ"),
            std::string::npos);
}

}  // namespace
}  // namespace kattn
