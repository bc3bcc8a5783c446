// Each graph operation's backward() against central finite differences of its forward(), built
// as a model calls it (the layer is its graph operation) and called on BoundArguments: every
// float32 input value and every weight, the Keras masks the values carry, values passed in several
// roles (self-attention, x * x), and what backward() refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "kattn/layers/activation.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/bidirectional.hpp"
#include "kattn/layers/conv1d.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/dropout.hpp"
#include "kattn/layers/einsum_dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/layer_normalization.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/masking.hpp"
#include "kattn/layers/merging.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/layers/repeat_vector.hpp"
#include "kattn/layers/simple_rnn.hpp"
#include "kattn/layers/time_distributed.hpp"
#include "models/model_test_util.hpp"
#include "models/operation_registry.hpp"
#include "projected_test_util.hpp"
#include "zoo_layers.hpp"

namespace kattn {
namespace {

using testing::dot_sum;
using testing::gradients_agree;
using testing::message_of;
using testing::numeric_gradient;
using testing::random_mask;
using testing::random_normal;

constexpr double kStep = testing::kFloatStep;
constexpr double kAtol = testing::kFloatAtol;
constexpr double kRtol = testing::kFloatRtol;

using Arg = NodeArg<ValuePtr>;

// One call of an operation: its arguments as a node holds them.
struct OperationCall {
  std::shared_ptr<Layer> layer;  // null for keras.ops functions
  std::shared_ptr<Operation> operation;
  NodeArguments<ValuePtr> arguments;
  RunContext context;

  ValueArguments bound() const {
    return ValueArguments(arguments, operation->call_parameters(),
                          {operation->class_name(), operation->name()});
  }
};

OperationCall layer_call(std::shared_ptr<Layer> layer, std::vector<Arg> args,
                         std::map<std::string, Arg, std::less<>> kwargs = {}) {
  OperationCall call;
  call.operation = layer;
  call.layer = std::move(layer);
  call.arguments.args = std::move(args);
  call.arguments.kwargs = std::move(kwargs);
  return call;
}

Arg tensor(const ValuePtr& value) { return Arg::tensor(value); }
Arg list(const std::vector<ValuePtr>& values) {
  Arg::List items;
  for (const ValuePtr& value : values) items.push_back(Arg::tensor(value));
  return Arg::list(std::move(items));
}

ValuePtr float_value(const Shape& shape, uint64_t seed, std::optional<Mask> mask = std::nullopt) {
  return make_value(random_normal(shape, seed), std::move(mask));
}

// The gradient entries for `value`, added up; nullopt when there is none.
std::optional<Tensor> gradient_of(const ValueGradients& grads, const ValuePtr& value) {
  std::optional<Tensor> sum;
  for (const auto& [key, grad] : grads) {
    if (key != value) continue;
    if (!sum) {
      sum = grad.clone();
    } else {
      for (int64_t i = 0; i < sum->size(); ++i) sum->data()[i] += grad.data()[i];
    }
  }
  return sum;
}

int64_t entries_for(const ValueGradients& grads, const ValuePtr& value) {
  int64_t count = 0;
  for (const auto& entry : grads) count += entry.first == value;
  return count;
}

// backward() against differences of sum(forward().outputs[0] * d) for each value of `inputs`
// (the distinct float32 values the call gets) and each weight. The masks the inputs carry are
// put back before every forward (MultiHeadAttention clears them). Returns the gradients.
ValueGradients expect_operation_gradients(const OperationCall& call,
                                          const std::vector<ValuePtr>& inputs) {
  const ValueArguments bound = call.bound();
  std::vector<std::optional<Mask>> masks;
  for (const ValuePtr& input : inputs) masks.push_back(input->keras_mask);
  const auto restore_masks = [&] {
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i]->keras_mask = masks[i];
  };
  call.operation->forward_node(bound, call.context);  // builds the layer
  restore_masks();
  std::vector<Tensor> weights;
  if (call.layer) {
    for (const Tensor& w : call.layer->get_weights()) {
      weights.push_back(random_normal(w.shape(), 200 + weights.size()));
    }
  }
  const auto set_weights = [&] {
    if (!weights.empty()) call.layer->set_weights(weights);
  };
  set_weights();

  const OperationForward forward = call.operation->forward_node(bound, call.context);
  restore_masks();
  const Tensor d_output = random_normal(shape_of(forward.outputs[0]->tensor), 199);
  OutputGradients d_outputs(forward.outputs.size());
  d_outputs[0] = d_output;
  std::vector<Tensor> weight_gradients =
      call.layer ? call.layer->zero_gradients() : std::vector<Tensor>{};
  const ValueGradients grads =
      call.operation->backward_node(bound, {forward, d_outputs, weight_gradients});

  const auto loss = [&] {
    restore_masks();
    set_weights();
    const OperationForward again = call.operation->forward_node(bound, call.context);
    restore_masks();
    return dot_sum(std::get<Tensor>(again.outputs[0]->tensor), d_output);
  };
  for (const auto& entry : grads) {
    EXPECT_NE(std::find(inputs.begin(), inputs.end(), entry.first), inputs.end())
        << "a gradient for a value that is not a checked input";
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::optional<Tensor> grad = gradient_of(grads, inputs[i]);
    EXPECT_TRUE(grad.has_value()) << "input " << i;
    if (!grad) continue;
    Tensor& x = std::get<Tensor>(inputs[i]->tensor);
    EXPECT_TRUE(gradients_agree(*grad, numeric_gradient(x, loss, kStep), kAtol, kRtol))
        << "input " << i;
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_TRUE(gradients_agree(weight_gradients[i], numeric_gradient(weights[i], loss, kStep),
                                kAtol, kRtol))
        << call.layer->weights()[i].name;
  }
  return grads;
}

// ---- single-input layers

TEST(OperationBackward, SingleInputLayers) {
  const Mask mask = random_mask({2, 6}, 1);
  struct Case {
    std::string name;
    std::shared_ptr<Layer> layer;
  };
  const std::vector<Case> cases = {
      {"Dense",
       std::make_shared<Dense>(Dense::Args{.units = 3, .activation = ActivationFunction("tanh")})},
      {"EinsumDense", std::make_shared<EinsumDense>(EinsumDense::Args{
                          .equation = "abc,cd->abd", .output_shape = {6, 2}, .bias_axes = "d"})},
      {"Activation",
       std::make_shared<Activation>(Activation::Args{.activation = ActivationFunction("gelu")})},
      {"LayerNormalization", std::make_shared<LayerNormalization>()},
      {"Conv1D", std::make_shared<Conv1D>(Conv1D::Args{
                     .filters = 2, .kernel_size = 3, .strides = 2, .padding = "same"})},
      {"GlobalMaxPooling1D", std::make_shared<GlobalMaxPooling1D>()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // The input's Keras mask passes through or is dropped; it gets no gradient.
    const ValuePtr x = float_value({2, 6, 4}, 2, mask);
    const ValueGradients grads = expect_operation_gradients(layer_call(c.layer, {tensor(x)}), {x});
    EXPECT_EQ(grads.size(), 1u);
  }
}

// ---- recurrent layers and wrappers: backpropagation through time as a node runs it

// A mask over (2, 5) with an interior masked step and a fully padded second row.
Mask recurrent_mask() {
  return Mask({2, 5}, {true, false, true, true, false,  //
                       false, false, false, false, false});
}

TEST(OperationBackward, RecurrentLayers) {
  struct Case {
    std::string name;
    std::shared_ptr<Layer> layer;
    bool initial_state;
  };
  const std::vector<Case> cases = {
      {"LSTM sequences",
       std::make_shared<LSTM>(LSTM::Args{.units = 3, .rnn = {.return_sequences = true}}), true},
      {"LSTM last backwards",
       std::make_shared<LSTM>(LSTM::Args{.units = 3, .rnn = {.go_backwards = true}}), false},
      {"GRU reset before, states",
       std::make_shared<GRU>(GRU::Args{.units = 2,
                                       .reset_after = false,
                                       .rnn = {.return_sequences = true, .return_state = true}}),
       true},
      {"GRU unrolled",
       std::make_shared<GRU>(
           GRU::Args{.units = 2, .rnn = {.return_sequences = true, .unroll = true}}),
       false},
      {"SimpleRNN zero output",
       std::make_shared<SimpleRNN>(SimpleRNN::Args{
           .units = 3, .rnn = {.return_sequences = true, .zero_output_for_mask = true}}),
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto& rnn = dynamic_cast<const RNN&>(*c.layer);
    const ValuePtr x = float_value({2, 5, 4}, 3);
    std::vector<ValuePtr> checked{x};
    std::map<std::string, Arg, std::less<>> kwargs{
        {"mask", Arg::tensor(make_value(recurrent_mask()))}};
    if (c.initial_state) {
      std::vector<ValuePtr> states;
      for (int64_t k = 0; k < ops::recurrent_states(rnn.cell().kind); ++k) {
        states.push_back(float_value({2, rnn.units()}, 10 + static_cast<uint64_t>(k)));
      }
      kwargs.emplace("initial_state", list(states));
      checked.insert(checked.end(), states.begin(), states.end());
    }
    const ValueGradients grads =
        expect_operation_gradients(layer_call(c.layer, {tensor(x)}, std::move(kwargs)), checked);
    EXPECT_EQ(grads.size(), checked.size());
  }
}

TEST(OperationBackward, BidirectionalMergesAndStates) {
  for (const std::optional<std::string>& mode :
       {std::optional<std::string>("concat"), std::optional<std::string>("sum"),
        std::optional<std::string>("mul"), std::optional<std::string>("ave"),
        std::optional<std::string>()}) {
    SCOPED_TRACE(mode.value_or("None"));
    auto layer = std::make_shared<Bidirectional>(Bidirectional::Args{
        .layer = std::make_shared<LSTM>(
            LSTM::Args{.units = 2, .rnn = {.return_sequences = true, .return_state = true}}),
        .merge_mode = mode});
    const ValuePtr x = float_value({2, 5, 3}, 4, recurrent_mask());
    std::vector<ValuePtr> states;
    for (uint64_t k = 0; k < 4; ++k) states.push_back(float_value({2, 2}, 20 + k));
    std::vector<ValuePtr> checked{x};
    checked.insert(checked.end(), states.begin(), states.end());
    expect_operation_gradients(layer_call(layer, {tensor(x)},
                                          {{"initial_state", list(states)},
                                           {"mask", Arg::tensor(make_value(recurrent_mask()))}}),
                               checked);
  }
  // The last outputs, masked through the sequences' Keras mask.
  auto gru = std::make_shared<Bidirectional>(
      Bidirectional::Args{.layer = std::make_shared<GRU>(GRU::Args{.units = 2})});
  const ValuePtr x = float_value({2, 5, 3}, 5, recurrent_mask());
  expect_operation_gradients(layer_call(gru, {tensor(x)}), {x});
}

TEST(OperationBackward, RepeatVectorSumsTheCopies) {
  auto layer = std::make_shared<RepeatVector>(RepeatVector::Args{.n = 3});
  const ValuePtr x = float_value({2, 4}, 7);
  EXPECT_EQ(expect_operation_gradients(layer_call(layer, {tensor(x)}), {x}).size(), 1u);
}

TEST(OperationBackward, TimeDistributedFoldsTheSteps) {
  auto layer = std::make_shared<TimeDistributed>(
      TimeDistributed::Args{.layer = std::make_shared<Dense>(Dense::Args{
                                .units = 3, .activation = ActivationFunction("tanh")})});
  const ValuePtr x = float_value({2, 5, 4}, 6);
  const ValueGradients grads = expect_operation_gradients(
      layer_call(layer, {tensor(x)}, {{"mask", Arg::tensor(make_value(recurrent_mask()))}}), {x});
  EXPECT_EQ(grads.size(), 1u);
}

TEST(OperationBackward, EmbeddingGivesTheIdsNoGradient) {
  auto layer = std::make_shared<Embedding>(
      Embedding::Args{.input_dim = 6, .output_dim = 3, .mask_zero = true});
  const ValuePtr ids = make_value(Int32Tensor({2, 3}, {1, 0, 5, 5, 2, 0}));
  const ValueGradients grads = expect_operation_gradients(layer_call(layer, {tensor(ids)}), {});
  EXPECT_TRUE(grads.empty());
}

TEST(OperationBackward, MaskingZeroesTheMaskedSteps) {
  const ValuePtr x = float_value({2, 3, 2}, 3);
  std::get<Tensor>(x->tensor)(1, 2, 0) = 0.0f;  // step (1, 2) equals mask_value: masked
  std::get<Tensor>(x->tensor)(1, 2, 1) = 0.0f;
  const OperationCall call = layer_call(std::make_shared<Masking>(), {tensor(x)});
  const ValueArguments bound = call.bound();
  const OperationForward forward = call.operation->forward_node(bound, {});
  ASSERT_TRUE(forward.outputs[0]->keras_mask.has_value());
  EXPECT_FALSE((*forward.outputs[0]->keras_mask)(1, 2));
  const Tensor d = random_normal({2, 3, 2}, 4);
  std::vector<Tensor> none;
  const ValueGradients grads = call.operation->backward_node(bound, {forward, {d}, none});
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_EQ(grads[0].first, x);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 3; ++t) {
      for (int64_t j = 0; j < 2; ++j) {
        EXPECT_EQ(grads[0].second(b, t, j), b == 1 && t == 2 ? 0.0f : d(b, t, j));
      }
    }
  }
}

TEST(OperationBackward, DropoutUsesItsForwardMaskAndIsTheIdentityAtInference) {
  auto layer = std::make_shared<Dropout>(Dropout::Args{.rate = 0.5, .seed = 9});
  const ValuePtr x = make_value(Tensor::full({3, 8}, 1.0f), random_mask({3}, 5));
  OperationCall call = layer_call(layer, {tensor(x)});
  const Tensor d = Tensor::full({3, 8}, 3.0f);
  std::vector<Tensor> none;
  {
    call.context.training = true;
    const ValueArguments bound = call.bound();
    const OperationForward forward = call.operation->forward_node(bound, call.context);
    EXPECT_NE(forward.outputs[0], x);
    EXPECT_EQ(forward.outputs[0]->keras_mask->to_vector(), x->keras_mask->to_vector());
    const ValueGradients grads = call.operation->backward_node(bound, {forward, {d}, none});
    ASSERT_EQ(grads.size(), 1u);
    const Tensor& y = std::get<Tensor>(forward.outputs[0]->tensor);
    for (int64_t i = 0; i < y.size(); ++i) {
      EXPECT_EQ(grads[0].second.data()[i], y.data()[i] == 0.0f ? 0.0f : 6.0f) << i;
    }
  }
  for (const bool explicit_training : {false, true}) {
    // Inference, from the context or the node's `training=False`: the output is the input
    // value itself and its gradient d.
    OperationCall inference = layer_call(layer, {tensor(x)});
    if (explicit_training) {
      inference.arguments.kwargs.emplace("training", Arg::literal(false));
      inference.context.training = true;
    }
    const ValueArguments bound = inference.bound();
    const OperationForward forward = inference.operation->forward_node(bound, inference.context);
    EXPECT_EQ(forward.outputs[0], x);
    const ValueGradients grads = inference.operation->backward_node(bound, {forward, {d}, none});
    ASSERT_EQ(grads.size(), 1u);
    EXPECT_EQ(grads[0].second.to_vector(), d.to_vector());
  }
}

TEST(OperationBackward, GlobalAveragePoolingAveragesOverTheMaskItIsGiven) {
  const Mask carried({2, 5}, {true, true, true, false, false, true, false, true, true, false});
  auto layer = std::make_shared<GlobalAveragePooling1D>();
  // The input's own Keras mask.
  const ValuePtr x = float_value({2, 5, 3}, 7, carried);
  expect_operation_gradients(layer_call(layer, {tensor(x)}), {x});
  // An explicit mask keyword wins over the carried one (here its complement), and gets no
  // gradient: the steps it masks get 0.
  Mask explicit_mask(carried.shape());
  for (int64_t i = 0; i < carried.size(); ++i) explicit_mask.data()[i] = !carried.data()[i];
  const ValuePtr mask = make_value(explicit_mask);
  const OperationCall call = layer_call(layer, {tensor(x)}, {{"mask", tensor(mask)}});
  const ValueGradients grads = expect_operation_gradients(call, {x});
  EXPECT_EQ(entries_for(grads, mask), 0);
  const Tensor d_x = *gradient_of(grads, x);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 5; ++t) {
      for (int64_t c = 0; c < 3; ++c) {
        EXPECT_EQ(d_x(b, t, c) != 0.0f, explicit_mask(b, t)) << b << ", " << t;
      }
    }
  }
}

// ---- merging

TEST(OperationBackward, MergeLayersGiveOneEntryPerListElement) {
  const ValuePtr a = float_value({2, 3, 4}, 10, random_mask({2, 3}, 11));
  const ValuePtr b = float_value({2, 1, 4}, 12, random_mask({2, 1}, 13));
  const ValuePtr c = float_value({2, 3, 2}, 14);
  {
    SCOPED_TRACE("Add");
    expect_operation_gradients(layer_call(std::make_shared<Add>(), {list({a, b})}), {a, b});
  }
  {
    SCOPED_TRACE("Multiply of a value with itself");
    const ValueGradients grads = expect_operation_gradients(
        layer_call(std::make_shared<Multiply>(), {list({a, a, b})}), {a, b});
    EXPECT_EQ(entries_for(grads, a), 2);
  }
  {
    SCOPED_TRACE("Concatenate");
    const ValueGradients grads = expect_operation_gradients(
        layer_call(std::make_shared<Concatenate>(), {list({a, c, a})}), {a, c});
    EXPECT_EQ(entries_for(grads, a), 2);
  }
}

// ---- attention

TEST(OperationBackward, DenseAttentionRolesMapOntoTheValues) {
  Mask query_mask = random_mask({2, 3}, 20);
  Mask value_mask = random_mask({2, 4}, 21);
  value_mask(0, 0) = value_mask(1, 0) = true;
  for (const bool additive : {false, true}) {
    SCOPED_TRACE(additive ? "AdditiveAttention" : "Attention");
    const auto make = [&]() -> std::shared_ptr<Layer> {
      if (additive) return std::make_shared<AdditiveAttention>();
      return std::make_shared<Attention>(Attention::Args{.use_scale = true});
    };
    {
      SCOPED_TRACE("[query, value, key] with carried masks");
      const ValuePtr q = float_value({2, 3, 5}, 22, query_mask);
      const ValuePtr v = float_value({2, 4, 5}, 23, value_mask);
      const ValuePtr k = float_value({2, 4, 5}, 24);
      const ValueGradients grads =
          expect_operation_gradients(layer_call(make(), {list({q, v, k})}), {q, v, k});
      EXPECT_EQ(grads.size(), 3u);
    }
    {
      SCOPED_TRACE("self-attention [x, x], causal, explicit masks");
      Mask self_mask = random_mask({2, 4}, 25);
      self_mask(0, 0) = self_mask(1, 0) = true;
      const ValuePtr x = float_value({2, 4, 5}, 26);
      const ValuePtr m = make_value(self_mask);
      const OperationCall call =
          layer_call(make(), {list({x, x})},
                     {{"mask", list({m, m})}, {"use_causal_mask", Arg::literal(true)}});
      const ValueGradients grads = expect_operation_gradients(call, {x});
      EXPECT_EQ(entries_for(grads, x), 2);
      EXPECT_EQ(entries_for(grads, m), 0);
      // A masked step is a zeroed query row and a key never attended: no gradient in any role.
      const Tensor d_x = *gradient_of(grads, x);
      for (int64_t b = 0; b < 2; ++b) {
        for (int64_t t = 0; t < 4; ++t) {
          if (self_mask(b, t)) continue;
          for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(d_x(b, t, j), 0.0f) << b << ", " << t;
        }
      }
    }
  }
}

TEST(OperationBackward, ProjectedAttentionRolesMapOntoTheValues) {
  Mask mask = random_mask({2, 4}, 30);
  mask(0, 0) = mask(1, 0) = true;
  const auto mha = [] {
    return std::make_shared<MultiHeadAttention>(
        MultiHeadAttention::Args{.num_heads = 2, .key_dim = 3, .use_gate = true});
  };
  const auto gqa = [] {
    return std::make_shared<GroupedQueryAttention>(
        GroupedQueryAttention::Args{.head_dim = 2, .num_query_heads = 4, .num_key_value_heads = 2});
  };
  for (const bool grouped : {false, true}) {
    SCOPED_TRACE(grouped ? "GroupQueryAttention" : "MultiHeadAttention");
    const auto make = [&]() -> std::shared_ptr<Layer> {
      if (grouped) return gqa();
      return mha();
    };
    {
      SCOPED_TRACE("self-attention: query and value the same masked value, causal");
      const ValuePtr x = float_value({2, 4, 6}, 31, mask);
      const OperationCall call =
          layer_call(make(), {tensor(x), tensor(x)}, {{"use_causal_mask", Arg::literal(true)}});
      const ValueGradients grads = expect_operation_gradients(call, {x});
      EXPECT_EQ(entries_for(grads, x), 2);
      // Causal: output step 0 reads step 0 only, so a gradient on it reaches no later step.
      const ValueArguments bound = call.bound();
      x->keras_mask = mask;
      const OperationForward forward = call.operation->forward_node(bound, {});
      Tensor d = Tensor(shape_of(forward.outputs[0]->tensor));
      for (int64_t b = 0; b < 2; ++b) {
        for (int64_t j = 0; j < 6; ++j) d(b, 0, j) = 1.0f;
      }
      std::vector<Tensor> weight_gradients = call.layer->zero_gradients();
      const Tensor d_x = *gradient_of(
          call.operation->backward_node(bound, {forward, {d, std::nullopt}, weight_gradients}), x);
      for (int64_t b = 0; b < 2; ++b) {
        for (int64_t t = 1; t < 4; ++t) {
          for (int64_t j = 0; j < 6; ++j) EXPECT_EQ(d_x(b, t, j), 0.0f) << b << ", " << t;
        }
      }
    }
    {
      SCOPED_TRACE("query, value and key all the same value");
      const ValuePtr x = float_value({2, 4, 6}, 32);
      const ValueGradients grads = expect_operation_gradients(
          layer_call(make(), {tensor(x), tensor(x)}, {{"key", tensor(x)}}), {x});
      EXPECT_EQ(entries_for(grads, x), 3);
    }
    {
      SCOPED_TRACE("cross-attention with a key and an attention mask, scores returned");
      const ValuePtr q = float_value({2, 3, 6}, 33);
      const ValuePtr v = float_value({2, 4, 6}, 34, mask);
      const ValuePtr k = float_value({2, 4, 6}, 35);
      const ValuePtr attention_mask = make_value(Mask::full({2, 3, 4}, true));
      const ValueGradients grads =
          expect_operation_gradients(layer_call(make(), {tensor(q), tensor(v)},
                                                {{"key", tensor(k)},
                                                 {"attention_mask", tensor(attention_mask)},
                                                 {"return_attention_scores", Arg::literal(true)}}),
                                     {q, v, k});
      EXPECT_EQ(grads.size(), 3u);
    }
  }
}

// ---- keras.ops functions

TEST(OperationBackward, ConvertToTensorAndExpandDimsPassFloatGradientsOn) {
  const auto op = [](const std::string& class_name, const std::string& module, Config config) {
    return detail::operation_from_config(
        Config{{"class_name", class_name}, {"module", module}, {"config", config}});
  };
  const ValuePtr x = float_value({2, 3}, 40);
  for (const auto& [name, operation] :
       {std::pair{std::string("ConvertToTensor"), op("ConvertToTensor", "keras.src.ops.core",
                                                     Config{{"name", "convert_to_tensor"}})},
        std::pair{std::string("ExpandDims"), op("ExpandDims", "keras.src.ops.numpy",
                                                Config{{"name", "expand_dims"}, {"axis", 1}})}}) {
    SCOPED_TRACE(name);
    OperationCall call;
    call.operation = operation;
    call.arguments.args = {tensor(x)};
    expect_operation_gradients(call, {x});
    // A bool input (a mask being computed) gets none.
    OperationCall on_mask = call;
    on_mask.arguments.args = {tensor(make_value(Mask::full({2, 3}, true)))};
    const ValueArguments bound = on_mask.bound();
    const OperationForward forward = operation->forward_node(bound, {});
    std::vector<Tensor> none;
    EXPECT_TRUE(
        operation
            ->backward_node(
                bound, {forward, {Tensor::full(shape_of(forward.outputs[0]->tensor), 1.0f)}, none})
            .empty());
  }
}

// ---- what backward() refuses, and gradients that reach no output

TEST(OperationBackward, NoGradientInNothingOutAndRefusals) {
  auto layer = std::make_shared<Dense>(Dense::Args{.units = 2, .name = "head"});
  const ValuePtr x = float_value({3, 4}, 50);
  const OperationCall call = layer_call(layer, {tensor(x)});
  const ValueArguments bound = call.bound();
  const OperationForward forward = call.operation->forward_node(bound, {});
  std::vector<Tensor> buffers = layer->zero_gradients();
  EXPECT_TRUE(call.operation->backward_node(bound, {forward, {std::nullopt}, buffers}).empty());
  EXPECT_EQ(buffers[0].to_vector(), std::vector<float>(8, 0.0f));

  // A forward from another layer of the same config, or from none.
  const std::shared_ptr<Operation> twin =
      std::make_shared<Dense>(Dense::Args{.units = 2, .name = "head"});
  const Tensor d = Tensor::full({3, 2}, 1.0f);
  EXPECT_EQ(message_of<ValueError>([&] {
              twin->backward_node(bound, {forward, {d}, buffers});
            }),
            "Dense 'head': `forward` was not made by this operation's forward_node(). "
            "Expected the OperationForward this operation's forward_node() returned. Received: "
            "forward from "
            "another operation.");
  EXPECT_EQ(message_of<ValueError>([&] {
              call.operation->backward_node(bound, {{}, {d}, buffers});
            }),
            "Dense 'head': `forward` was not made by this operation's forward_node(). "
            "Expected the OperationForward this operation's forward_node() returned. Received: "
            "forward from no "
            "forward_node() call.");

  // A gradient for the returned attention scores.
  auto attention = std::make_shared<Attention>(Attention::Args{.name = "luong"});
  const ValuePtr q = float_value({2, 3, 4}, 51);
  const OperationCall scored =
      layer_call(attention, {list({q, q})}, {{"return_attention_scores", Arg::literal(true)}});
  const ValueArguments scored_bound = scored.bound();
  const OperationForward scored_forward = scored.operation->forward_node(scored_bound, {});
  ASSERT_EQ(scored_forward.outputs.size(), 2u);
  std::vector<Tensor> no_weights;
  EXPECT_EQ(message_of<NotSupportedError>([&] {
              scored.operation->backward_node(
                  scored_bound, {scored_forward,
                                 {Tensor::full({2, 3, 4}, 1.0f), Tensor::full({2, 3, 3}, 1.0f)},
                                 no_weights});
            }),
            "Attention 'luong': no backward pass through the attention scores. Expected a "
            "gradient for the output only. Received: a gradient for output 1 (the attention "
            "scores).");

  // An operation that only computes masks keeps the default.
  const std::shared_ptr<Operation> not_equal =
      detail::operation_from_config(Config{{"class_name", "NotEqual"},
                                           {"module", "keras.src.ops.numpy"},
                                           {"config", Config{{"name", "not_equal"}}}});
  NodeArguments<ValuePtr> args;
  args.args = {tensor(make_value(Int32Tensor({2}, {0, 1}))), Arg::literal(0)};
  const ValueArguments ne_bound(args, not_equal->call_parameters(), {"NotEqual", "not_equal"});
  const OperationForward ne_forward = not_equal->forward_node(ne_bound, {});
  EXPECT_NE(message_of<NotSupportedError>([&] {
              not_equal->backward_node(ne_bound, {ne_forward, {std::nullopt}, no_weights});
            }),
            "no exception");
}

std::shared_ptr<Operation> numpy_op(const std::string& class_name) {
  return detail::operation_from_config(Config{{"class_name", class_name},
                                              {"module", "keras.src.ops.numpy"},
                                              {"config", {{"name", to_snake_case(class_name)}}}});
}

// x1 op x2 with numpy broadcasting in both directions, tensor and literal operands: each
// float32 tensor operand's gradient summed back over its broadcast axes.
TEST(OperationBackward, ArithmeticOpsBroadcastTheirGradientsBack) {
  for (const std::string class_name : {"Add", "Subtract", "Multiply", "Divide", "TrueDivide"}) {
    SCOPED_TRACE(class_name);
    const ValuePtr a = float_value({2, 3, 4}, 50);
    const ValuePtr b = float_value({3, 1}, 51);
    const ValuePtr c = float_value({1, 3, 1}, 52);
    for (auto& value : {b, c}) {  // divisors away from 0
      Tensor& t = std::get<Tensor>(value->tensor);
      for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = 1.5F + std::fabs(t.data()[i]);
    }
    OperationCall both;
    both.operation = numpy_op(class_name);
    both.arguments.args = {tensor(a), tensor(b)};
    expect_operation_gradients(both, {a, b});
    OperationCall reversed;
    reversed.operation = numpy_op(class_name);
    reversed.arguments.args = {tensor(c), tensor(a)};
    if (class_name.find("Divide") == std::string::npos)
      expect_operation_gradients(reversed, {c, a});
    OperationCall literal_first;
    literal_first.operation = numpy_op(class_name);
    literal_first.arguments.args = {Arg::literal(2.5), tensor(c)};
    const ValueGradients grads = expect_operation_gradients(literal_first, {c});
    EXPECT_EQ(grads.size(), 1U);
    OperationCall same;  // x op x: both entries add up
    same.operation = numpy_op(class_name);
    same.arguments.args = {tensor(b), tensor(b)};
    expect_operation_gradients(same, {b});
  }
}

TEST(OperationBackward, ElementwiseOpsMatchTheirDerivatives) {
  for (const std::string class_name : {"Negative", "Absolute", "Square", "Sqrt", "Exp", "Tanh"}) {
    SCOPED_TRACE(class_name);
    const ValuePtr x = float_value({3, 5}, 60);
    if (class_name == "Sqrt" || class_name == "Absolute") {
      Tensor& t = std::get<Tensor>(x->tensor);
      for (int64_t i = 0; i < t.size(); ++i) {
        t.data()[i] = (class_name == "Sqrt" ? 0.5F : 0.1F) + std::fabs(t.data()[i]);
        if (class_name == "Absolute" && i % 2 == 0) t.data()[i] = -t.data()[i];
      }
    }
    OperationCall call;
    call.operation = numpy_op(class_name);
    call.arguments.args = {tensor(x)};
    expect_operation_gradients(call, {x});
  }
}

std::shared_ptr<Operation> op_with(const std::string& module, const std::string& class_name,
                                   Config config) {
  config["name"] = to_snake_case(class_name);
  return detail::operation_from_config(
      Config{{"class_name", class_name}, {"module", module}, {"config", std::move(config)}});
}

// The ops that move, reduce or multiply their inputs, and keras.ops.nn's Softmax and Gelu.
TEST(OperationBackward, ShapeReductionProductAndNnOps) {
  const Config slice_all{{"class_name", "__slice__"},
                         {"config", {{"start", nullptr}, {"stop", nullptr}, {"step", nullptr}}}};
  const Config every_other{{"class_name", "__slice__"},
                           {"config", {{"start", 1}, {"stop", nullptr}, {"step", -2}}}};
  struct Case {
    std::string module, class_name;
    Config config;
    std::vector<Arg> extra_args;
  };
  const std::string numpy = "keras.src.ops.numpy";
  const std::vector<Case> cases = {
      {numpy, "Transpose", {{"axes", Config({0, 2, 1})}}, {}},
      {numpy, "Reshape", {{"newshape", Config({-1, 12})}}, {}},
      {numpy, "Squeeze", {{"axis", nullptr}}, {}},
      {numpy, "Mean", {{"axis", Config({1, 2})}, {"keepdims", true}}, {}},
      {numpy, "Sum", {{"axis", 1}, {"keepdims", false}}, {}},
      {numpy, "GetItem", Config::object(), {Arg::list({Arg::literal(slice_all), Arg::literal(0)})}},
      {numpy,
       "GetItem",
       Config::object(),
       {Arg::list({Arg::literal(slice_all), Arg::literal(every_other), Arg::literal(nullptr)})}},
      {"keras.src.ops.nn", "Softmax", {{"axis", 1}}, {}},
      {"keras.src.ops.nn", "Gelu", {{"approximate", true}}, {}},
      {"keras.src.ops.nn", "Gelu", {{"approximate", false}}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.class_name + " " + c.config.dump());
    const ValuePtr x = float_value({2, 3, 4}, 70);
    OperationCall call;
    call.operation = op_with(c.module, c.class_name, c.config);
    call.arguments.args = {tensor(x)};
    for (const Arg& arg : c.extra_args) call.arguments.args.push_back(arg);
    expect_operation_gradients(call, {x});
  }
  // Matmul with a broadcast batch axis: both operands' gradients.
  const ValuePtr a = float_value({2, 3, 4}, 71);
  const ValuePtr b = float_value({1, 4, 5}, 72);
  OperationCall matmul;
  matmul.operation = op_with(numpy, "Matmul", Config::object());
  matmul.arguments.args = {tensor(a), tensor(b)};
  expect_operation_gradients(matmul, {a, b});
}

// ---- custom layers (examples/custom_layer/): a GraphLayer and a UnaryLayer of a program's own

TEST(OperationBackward, CustomLayers) {
  // TransformerBlock runs a graph of MultiHeadAttention, Dense, LayerNormalization, Dropout and
  // Add: its input and every sublayer's weights.
  const ValuePtr x = float_value({2, 3, 4}, 41);
  expect_operation_gradients(
      layer_call(std::make_shared<zoo::TransformerBlock>(zoo::TransformerBlock::Args{
                     .embed_dim = 4, .num_heads = 2, .ff_dim = 5, .rate = 0.0}),
                 {tensor(x)}),
      {x});
  // TokenAndPositionEmbedding: its two tables; the float ids (mid-way between integers, so
  // that the differences do not change them) get zeros.
  Tensor ids({2, 3});
  for (int64_t i = 0; i < ids.size(); ++i) ids.data()[i] = 0.5f + static_cast<float>(i % 5);
  const ValuePtr id_value = make_value(ids);
  expect_operation_gradients(layer_call(std::make_shared<zoo::TokenAndPositionEmbedding>(
                                            zoo::TokenAndPositionEmbedding::Args{
                                                .maxlen = 4, .vocab_size = 5, .embed_dim = 3}),
                                        {tensor(id_value)}),
                             {id_value});
}

}  // namespace
}  // namespace kattn
