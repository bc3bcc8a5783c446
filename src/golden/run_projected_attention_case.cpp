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
AttentionOutput run(const LoadedCase& loaded, bool query_mask_is_keras_mask) {
  const std::unique_ptr<LayerType> layer = LayerType::from_config(loaded.config);
  const Tensor query = loaded.inputs.at("query");
  const Tensor value = loaded.inputs.at("value");
  ProjectedAttentionCallArgs args;
  if (loaded.inputs.count("key") != 0) args.key = loaded.inputs.at("key");
  layer->build(query.shape(), value.shape(),
               args.key ? std::optional<Shape>(args.key->shape()) : std::nullopt);
  load_case_weights(*layer, loaded);

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
  return layer->call(query, value, args);
}

}  // namespace

AttentionOutput run_projected_attention_case(const LoadedCase& loaded) {
  if (loaded.manifest.value("layer_class", "") == "MultiHeadAttention") {
    return run<MultiHeadAttention>(loaded, /*query_mask_is_keras_mask=*/true);
  }
  return run<GroupedQueryAttention>(loaded, /*query_mask_is_keras_mask=*/false);
}

}  // namespace kattn::golden
