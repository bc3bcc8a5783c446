// Attention and AdditiveAttention cases: inputs [query, value(, key)], masks passed as Keras's
// mask=[query_mask, value_mask].
#include "golden/loaded_case.hpp"
#include "kattn/layers/attention.hpp"

namespace kattn::golden {

namespace {

struct DenseCase {
  std::unique_ptr<DenseAttention> layer;
  DenseAttentionCallArgs args;
};

DenseCase make_case(const LoadedCase& loaded) {
  DenseCase c;
  if (loaded.manifest.value("layer_class", "") == "Attention") {
    c.layer = Attention::from_config(loaded.config);
  } else {
    c.layer = AdditiveAttention::from_config(loaded.config);
  }
  c.layer->build(loaded.input_shapes());
  load_case_weights(*c.layer, loaded);
  c.args.query_mask = loaded.mask("query_mask");
  c.args.value_mask = loaded.mask("value_mask");
  c.args.use_causal_mask = loaded.use_causal_mask;
  c.args.return_attention_scores = loaded.return_attention_scores;
  c.args.training = loaded.training;
  return c;
}

}  // namespace

AttentionOutput run_dense_attention_case(const LoadedCase& loaded) {
  const DenseCase c = make_case(loaded);
  return c.layer->call(loaded.ordered_inputs(), c.args);
}

CaseGradients run_dense_attention_gradients(const LoadedCase& loaded, const Tensor& d_output) {
  const DenseCase c = make_case(loaded);
  const AttentionForward forward = c.layer->forward(loaded.ordered_inputs(), c.args);
  std::vector<Tensor> weight_gradients = c.layer->zero_gradients();
  AttentionInputGradients inputs = c.layer->backward(forward, d_output, weight_gradients);
  return case_gradients(*c.layer, std::move(inputs), std::move(weight_gradients));
}

}  // namespace kattn::golden
