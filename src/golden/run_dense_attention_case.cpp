// Attention and AdditiveAttention cases: inputs [query, value(, key)], masks passed as Keras's
// mask=[query_mask, value_mask].
#include "golden/loaded_case.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn::golden {

AttentionOutput run_dense_attention_case(const LoadedCase& loaded) {
  const std::string layer_class = loaded.manifest.value("layer_class", "");
  std::unique_ptr<DenseAttention> layer;
  if (layer_class == "Attention") {
    layer = Attention::from_config(loaded.config);
  } else {
    layer = AdditiveAttention::from_config(loaded.config);
  }
  layer->build(loaded.input_shapes());
  load_case_weights(*layer, loaded);

  DenseAttentionCallArgs args;
  args.query_mask = loaded.mask("query_mask");
  args.value_mask = loaded.mask("value_mask");
  args.use_causal_mask = loaded.use_causal_mask;
  args.return_attention_scores = loaded.return_attention_scores;
  args.training = loaded.training;
  return layer->call(loaded.ordered_inputs(), args);
}

}  // namespace kattn::golden
