// MultiHeadAttention and GroupQueryAttention cases: masks passed as keyword arguments, except
// MultiHeadAttention's query mask, which Keras reads from the query tensor's Keras mask.
#include "golden/loaded_case.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/multi_head_attention.hpp"

namespace kattn::golden {

namespace {

// True when case.json says the value input is the query tensor itself (self-attention).
bool value_is_query(const LoadedCase& loaded) {
  const Config& inputs = loaded.manifest["layer_call"]["inputs"];
  return inputs.size() > 1 && inputs[1].value("same_tensor_as", "") == "query";
}

template <typename LayerType>
struct ProjectedCase {
  std::unique_ptr<LayerType> layer;
  Tensor query, value;
  ProjectedAttentionCallArgs args;
};

template <typename LayerType>
ProjectedCase<LayerType> make_case(const LoadedCase& loaded, bool query_mask_is_keras_mask) {
  ProjectedCase<LayerType> c;
  c.layer = LayerType::from_config(loaded.config);
  c.query = loaded.inputs.at("query");
  c.value = loaded.inputs.at("value");
  ProjectedAttentionCallArgs& args = c.args;
  if (loaded.inputs.count("key") != 0) args.key = loaded.inputs.at("key");
  c.layer->build(c.query.shape(), c.value.shape(),
                 args.key ? std::optional<Shape>(args.key->shape()) : std::nullopt);
  load_case_weights(*c.layer, loaded);

  args.query_mask = loaded.mask("query_mask");
  args.value_mask = loaded.mask("value_mask");
  args.key_mask = loaded.mask("key_mask");
  args.attention_mask = loaded.mask("attention_mask");
  // A Keras mask travels with its tensor: in self-attention the value (and key) is the query
  // tensor, so MultiHeadAttention applies the query's Keras mask as the value mask too.
  if (query_mask_is_keras_mask && args.query_mask && !args.value_mask && value_is_query(loaded)) {
    args.value_mask = args.query_mask;
  }
  args.use_causal_mask = loaded.use_causal_mask;
  args.return_attention_scores = loaded.return_attention_scores;
  args.training = loaded.training;
  return c;
}

template <typename LayerType>
AttentionOutput run(const LoadedCase& loaded, bool query_mask_is_keras_mask) {
  const auto c = make_case<LayerType>(loaded, query_mask_is_keras_mask);
  return c.layer->call(c.query, c.value, c.args);
}

template <typename LayerType>
CaseGradients gradients(const LoadedCase& loaded, bool query_mask_is_keras_mask,
                        const Tensor& d_output) {
  const auto c = make_case<LayerType>(loaded, query_mask_is_keras_mask);
  const AttentionForward forward = c.layer->forward(c.query, c.value, c.args);
  std::vector<Tensor> weight_gradients = c.layer->zero_gradients();
  AttentionInputGradients inputs = c.layer->backward(forward, d_output, weight_gradients);
  return case_gradients(*c.layer, std::move(inputs), std::move(weight_gradients));
}

}  // namespace

AttentionOutput run_projected_attention_case(const LoadedCase& loaded) {
  if (loaded.manifest.value("layer_class", "") == "MultiHeadAttention") {
    return run<MultiHeadAttention>(loaded, /*query_mask_is_keras_mask=*/true);
  }
  return run<GroupedQueryAttention>(loaded, /*query_mask_is_keras_mask=*/false);
}

CaseGradients run_projected_attention_gradients(const LoadedCase& loaded, const Tensor& d_output) {
  if (loaded.manifest.value("layer_class", "") == "MultiHeadAttention") {
    return gradients<MultiHeadAttention>(loaded, /*query_mask_is_keras_mask=*/true, d_output);
  }
  return gradients<GroupedQueryAttention>(loaded, /*query_mask_is_keras_mask=*/false, d_output);
}

}  // namespace kattn::golden
